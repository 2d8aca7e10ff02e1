import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PARSE_SLICE, PIPELINE_DEPTH, PIPELINE_QUEUE, PipelineGate, SLICING_WINDOW_MS } from '../src/pipeline.ts';
import { SIDE_LIMITS } from '../src/side-listener.ts';
import { startService } from './helpers.ts';
import { exchange } from './raw-http.ts';
import { serverEnv } from './server-env.ts';

/**
 * Backpressure for pipelining clients (src/pipeline.ts): a connection whose answers are not taken stops being
 * read, so that what one client sends ahead cannot grow the process. The emitted README states the bound and
 * what the attack below measured (ATTACK, MEMORY_LIMIT_MIB).
 */
export const ATTACK = { connections: 200, perAddress: 50, bytesEach: 64 * 1024, seconds: 8 };
/** The chart's default memory limit (resources.limits.memory). */
export const MEMORY_LIMIT_MIB = 256;
/**
 * The heap V8 sizes for itself in a pod with that limit (Node reads its cgroup): measured in a 256 MiB memory
 * cgroup, Node 22 and 24 set a heap limit of 259 MiB and Node 26 of 262 MiB, that is old space up to the limit
 * and semi-spaces of 1–2 MiB. Outside such a cgroup V8 sizes its young generation from the host's memory (up to
 * 3 × 64 MiB on Node 24), which no pod gets.
 */
export const POD_HEAP_FLAGS = [`--max-old-space-size=${MEMORY_LIMIT_MIB}`, '--max-semi-space-size=2'];

/** A connected pair of real sockets on loopback: [the server's side, the client's side]. */
async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const ours = await accepted;
  return [ours, client, () => (client.destroy(), ours.destroy(), server.close())];
}

describe('pipelining', () => {
  // First in this file: the window that pipelining opens lasts the rest of the process.
  it('a connection whose requests come one after the other keeps Node\'s native reading; pipelining on any connection slices them all, and new ones for a while', async () => {
    const [socketA, , closeA] = await socketPair();
    const [socketB, , closeB] = await socketPair();
    try {
      const a = new PipelineGate(socketA, 5_000);
      const b = new PipelineGate(socketB, 5_000);
      for (let i = 0; i < 3; i++) {
        assert.ok(a.admit(() => {}));
        a.done();
      }
      assert.equal(a.sliced, false, 'one request at a time is not pipelining');
      assert.ok(b.admit(() => {}) && b.admit(() => {}), 'b sends a request before its first is answered');
      assert.equal(a.sliced, true, 'every open connection is sliced at once');
      assert.equal(b.sliced, true, 'b is sliced once the read that showed it is parsed');
      const [socketC, , closeC] = await socketPair();
      assert.equal(new PipelineGate(socketC, 5_000).sliced, true, `a new connection within ${SLICING_WINDOW_MS} ms starts sliced`);
      closeC();
    } finally {
      closeA();
      closeB();
    }
  });

  it(`runs at most ${PIPELINE_DEPTH} requests of a connection at once, and stops reading it until they end`, async () => {
    const [socket, client, close] = await socketPair();
    try {
      let read = 0;
      socket.on('data', (chunk: Buffer) => (read += chunk.length));
      const gate = new PipelineGate(socket, 5_000);
      let ran = 0;
      for (let i = 0; i < PIPELINE_DEPTH + 4; i++) assert.ok(gate.admit(() => ran++));
      assert.equal(ran, PIPELINE_DEPTH, 'the rest wait');
      client.write('x'.repeat(1024));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(read, 0, 'the connection is not read while requests wait');
      for (let i = 0; i < 4; i++) gate.done();
      assert.equal(ran, PIPELINE_DEPTH + 4, 'each one that ends lets a waiting one run');
      gate.done();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(read, 1024, 'read again once nothing waits');
    } finally {
      close();
    }
  });

  it('a client that pipelines far ahead and reads gets every answer, in order: it is read in slices, never cut', async () => {
    const svc = await startService({ RATE_LIMIT_MAX: '100000' });
    const port = Number(new URL(svc.url).port);
    const pipelined = (n: number) => Array.from({ length: n }, (_, i) => `GET /hello?name=n${i} HTTP/1.1\r\nHost: test\r\n\r\n`).join('');
    try {
      const ahead = 1_000;
      const x = await exchange(port, [pipelined(ahead), `GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`], 20_000);
      assert.equal(x.responses.length, ahead + 1);
      assert.deepEqual(x.responses.slice(0, ahead).map((r) => JSON.parse(r.body).message), Array.from({ length: ahead }, (_, i) => `Hello, n${i}!`));
      assert.ok(!svc.logs.some((l) => l.msg === 'connection closed: too many pipelined requests ahead of their answers'));
    } finally {
      await svc.close();
    }
  });

  it(`admits at most ${PIPELINE_QUEUE} waiting requests per connection, more than one ${PARSE_SLICE}-byte slice of requests can hold`, async () => {
    const [socket, , close] = await socketPair();
    try {
      const gate = new PipelineGate(socket, 5_000);
      // A second request before the first is answered is pipelining: the connection is read in slices from then on.
      assert.ok(gate.admit(() => {}) && gate.admit(() => {}));
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 2; i < PIPELINE_DEPTH + PIPELINE_QUEUE; i++) assert.ok(gate.admit(() => {}));
      assert.equal(gate.admit(() => {}), false, 'the client is disconnected');
      assert.ok(PARSE_SLICE / 'GET / HTTP/1.0\r\n\r\n'.length < PIPELINE_QUEUE);
    } finally {
      close();
    }
  });

  // The attack of the emitted README's bound, on the public port and on a side listener (probes; metrics is the
  // same code), each with as many connections as its caps let in: Node parses what it is handed whole, so the
  // gates hand it slices.
  const targets = [
    { name: 'the public port', logged: { msg: 'listening', key: 'port' }, connections: ATTACK.connections, perAddress: ATTACK.perAddress },
    { name: 'the probe port', logged: { msg: 'probe listener started', key: 'probePort' }, connections: SIDE_LIMITS.maxConnections, perAddress: SIDE_LIMITS.maxConnectionsPerIp },
  ];
  for (const target of targets) {
    it(`${target.connections} connections pipelining GET /healthz to ${target.name} and never reading: the process stays within ${MEMORY_LIMIT_MIB} MiB and serves on`, { timeout: 60_000 }, async () => {
      const secretsDir = mkdtempSync(join(tmpdir(), 'secrets-'));
      const child = spawn(process.execPath, [...POD_HEAP_FLAGS, join(import.meta.dirname, '..', 'src', 'server.ts')], {
        env: { ...serverEnv(secretsDir), PROBE_PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const sockets: Socket[] = [];
      try {
        let port = 0;
        for (const deadline = Date.now() + 15_000; port === 0; await new Promise((r) => setTimeout(r, 50))) {
          assert.ok(Date.now() < deadline && child.exitCode === null, `not listening within 15 s:\n${out}`);
          // The line that says so: other lines may name ports too (a backing service's, for one).
          const line = out.split('\n').find((l) => l.includes(`"msg":"${target.logged.msg}"`));
          port = Number(line === undefined ? 0 : (JSON.parse(line) as Record<string, unknown>)[target.logged.key]);
        }
        const line = 'GET /healthz HTTP/1.1\r\nHost: attack\r\n\r\n';
        const payload = line.repeat(Math.floor(ATTACK.bytesEach / line.length));
        let connected = 0;
        for (let i = 0; i < target.connections; i++) {
          const socket = connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${1 + Math.floor(i / target.perAddress)}` });
          socket.on('error', () => {});
          socket.once('connect', () => {
            connected++;
            socket.write(payload);
          });
          sockets.push(socket);
        }
        // Anonymous memory is what a pod's memory limit cannot reclaim (the mapped Node binary can be); sampled.
        let peakMiB = 0;
        for (const end = Date.now() + ATTACK.seconds * 1_000; Date.now() < end && child.exitCode === null; await new Promise((r) => setTimeout(r, 100))) {
          let status = '';
          try {
            status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          } catch {
            break; // gone: said below
          }
          const anon = /RssAnon:\s+(\d+) kB/.exec(status);
          peakMiB = Math.max(peakMiB, Number(anon?.[1] ?? 0) / 1024);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(connected, target.connections, 'every attacking connection reached the listener');
        assert.ok(child.exitCode === null && child.signalCode === null, `the process died (${child.exitCode ?? child.signalCode}):\n${out.slice(-2_000)}`);
        console.log(`pipelining attack on ${target.name}: peak anonymous RSS ${peakMiB.toFixed(0)} MiB on Node ${process.version}`);
        assert.ok(peakMiB < MEMORY_LIMIT_MIB, `peak anonymous RSS ${peakMiB.toFixed(0)} MiB`);
        for (const socket of sockets) socket.destroy();
        // Once it has dropped what the attackers left (bounded: a few seconds on a busy machine), it serves again.
        let status = 0;
        for (const deadline = Date.now() + 15_000; status !== 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
          status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        }
        assert.equal(status, 200);
      } finally {
        for (const socket of sockets) socket.destroy();
        child.kill('SIGKILL');
        rmSync(secretsDir, { recursive: true, force: true });
      }
    });
  }
});
