import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lifecycle } from '../src/lifecycle.ts';
import { createShutdown } from '../src/shutdown.ts';
import { memoryLogger, startService, waitFor, type RunningService } from './helpers.ts';
import { exchange, openConnection } from './raw-http.ts';

/** The service's shutdown, with exit codes collected instead of exiting. */
function shutdownOf(svc: RunningService): { shutdown: (reason: string) => Promise<void>; exits: number[] } {
  const exits: number[] = [];
  const shutdown = createShutdown({
    lifecycle: svc.lifecycle,
    logger: svc.logger,
    delayMs: svc.config.shutdownDelayMs,
    timeoutMs: svc.config.shutdownTimeoutMs,
    close: () => svc.close(),
    closeAll: () => svc.service.closeAll(),
    exit: (code) => exits.push(code),
  });
  return { shutdown, exits };
}

/** Timeouts long enough that only the drain deadline (500 ms) ends a connection. */
const LINGERING = { SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '500', HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000', IDLE_TIMEOUT_MS: '5000' };

describe('graceful shutdown', () => {
  it('fails readiness first, keeps serving during the delay, then closes and exits 0', async () => {
    // Long enough for the three requests below to land within the delay on a busy machine.
    const svc = await startService({ SHUTDOWN_DELAY_MS: '1000', SHUTDOWN_TIMEOUT_MS: '5000' });
    const { shutdown, exits } = shutdownOf(svc);
    assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
    const done = shutdown('SIGTERM');

    const ready = await fetch(`${svc.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'shutting_down' });
    const health = await fetch(`${svc.url}/healthz`);
    assert.equal(health.status, 200, 'still alive while draining');
    assert.equal(health.headers.get('connection'), 'close', 'keep-alive clients are told to reconnect elsewhere');
    assert.equal((await fetch(`${svc.url}/hello`)).status, 200, 'still serving during the delay');

    await done;
    assert.deepEqual(exits, [0]);
    await assert.rejects(fetch(`${svc.url}/healthz`), 'no longer accepting connections');
  });

  it('at the drain deadline, closes the connections still open and exits 0 when none had a request under way', async () => {
    const svc = await startService(LINGERING);
    const port = Number(new URL(svc.url).port);
    const { shutdown, exits } = shutdownOf(svc);
    const silent = await openConnection(port);
    const headersOnly = exchange(port, [{ dribble: `GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: ${'a'.repeat(200)}`, everyMs: 20 }], 3_000);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await shutdown('SIGTERM');
    assert.deepEqual(exits, [0]);
    // The 5 s timeouts would end the connections far later: the 500 ms deadline did (slack for a busy machine).
    assert.ok(Date.now() - started < 3_500, `shut down in ${Date.now() - started} ms`);
    assert.ok((await headersOnly).closedAfterMs !== undefined);
    assert.ok((await silent.closed) > 0);
    assert.ok(svc.logs.some((l) => l.msg === 'drain deadline passed: closed idle connections, no request was cut'));
  });

  it('exits 1, naming the request, when the deadline cuts a request short', async () => {
    const svc = await startService(LINGERING);
    const port = Number(new URL(svc.url).port);
    const { shutdown, exits } = shutdownOf(svc);
    const stalled = exchange(port, ['POST /hello HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na'], 3_000);
    await new Promise((r) => setTimeout(r, 100));
    await shutdown('SIGTERM');
    assert.deepEqual(exits, [1]);
    const cut = svc.logs.find((l) => l.msg === 'drain deadline passed: requests cut short: exiting with 1');
    assert.equal(cut?.level, 'error');
    const [reqId] = cut?.cut as string[];
    const line = svc.logs.find((l) => l.msg === 'request' && l.reqId === reqId);
    assert.deepEqual({ path: line?.path, aborted: line?.aborted, reason: line?.reason }, { path: '/hello', aborted: true, reason: 'cut at the drain deadline' });
    assert.ok(svc.logs.indexOf(line!) < svc.logs.indexOf(cut!), 'the request line comes first');
    assert.deepEqual((await stalled).responses, []);
  });

  it('a request completed while draining is served with Connection: close and logged like any other', async () => {
    const svc = await startService({ ...LINGERING, SHUTDOWN_TIMEOUT_MS: '3000' });
    const port = Number(new URL(svc.url).port);
    const { shutdown, exits } = shutdownOf(svc);
    const late = exchange(port, [`GET /hello HTTP/1.1\r\nHost: test\r\n`, { waitMs: 300 }, '\r\n'], 3_000);
    await new Promise((r) => setTimeout(r, 100));
    const done = shutdown('SIGTERM');
    const x = await late;
    assert.equal(x.responses[0]?.status, 200);
    assert.equal(x.responses[0]?.headers.connection, 'close');
    const reqId = x.responses[0]?.headers['x-request-id'];
    await done;
    assert.deepEqual(exits, [0]);
    const lines = svc.logs.filter((l) => l.reqId === reqId);
    assert.deepEqual(lines.map((l) => [l.msg, l.method, l.path, l.status, l.ip]), [['request', 'GET', '/hello', 200, '127.0.0.1']]);
  });

  it('exits 1 when connections do not close even after the deadline', async () => {
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    const shutdown = createShutdown({
      lifecycle: new Lifecycle(),
      logger,
      delayMs: 10,
      timeoutMs: 100,
      close: () => new Promise(() => {}),
      closeAll: async () => [],
      exit: (code) => exits.push(code),
    });
    void shutdown('SIGTERM');
    await waitFor(() => exits.length > 0, 5_000);
    assert.deepEqual(exits, [1]);
    assert.ok(lines.some((l) => /timed out/.test(String(l.msg))));
  });

  it('the real process: logs the secret names it found, serves, and exits 0 on SIGTERM', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'secrets-'));
    writeFileSync(join(secrets, 'api-token'), 'never-logged\n');
    const server = await spawnServer({ SECRETS_DIR: secrets, SHUTDOWN_DELAY_MS: '100' });
    try {
      assert.deepEqual(server.lines.find((l) => l.msg === 'secret files found')?.secrets, ['api-token']);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
      assert.equal(await server.stop(), 0);
      assert.ok(server.lines.some((l) => l.msg === 'shutdown complete'));
      assert.ok(!server.raw.some((l) => l.includes('never-logged')), 'secret values are never logged');
    } finally {
      server.kill();
      rmSync(secrets, { recursive: true, force: true });
    }
  });

  it('the real process: a slow upload during shutdown gets its 408 before the drain deadline, and the exit is 0', async () => {
    const server = await spawnServer({ SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' });
    try {
      const upload = exchange(server.port, ['POST /hello HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', { dribble: 'a'.repeat(1000), everyMs: 20 }], 4_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await server.stop(), 0);
      assert.equal((await upload).responses[0]?.status, 408);
      assert.ok(server.lines.some((l) => l.msg === 'request' && l.status === 408));
    } finally {
      server.kill();
    }
  });
});

/** Runs src/server.ts as the container does; `stop()` sends SIGTERM and resolves to the exit code (bounded). */
async function spawnServer(env: Record<string, string>) {
  const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', SECRETS_DIR: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    raw.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  try {
    await waitFor(() => lines.some((l) => l.msg === 'listening'), 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port: Number(lines.find((l) => l.msg === 'listening')!.port),
    lines,
    raw,
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: () => child.kill('SIGKILL'),
  };
}
