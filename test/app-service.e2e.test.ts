/**
 * End to end: render each framework's service, install its dependencies from the registry, run its own test
 * suite, build it, and run the built server — first plainly, then under the pod's constraints (production
 * dependencies only, uid/gid 65532, read-only root with only /tmp writable, a read-only secrets mount),
 * using the image's Node line (Node 26 from .tools/, installed by scripts/install-test-tools.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolation } from '../bench/isolation.mjs';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';
import { deploymentEnv } from './support/chart-env.js';
import { valuesMatrix } from './support/chart-values.js';
import { bwrap, env26, node26, npm, requireServiceTools } from './support/node-lines.js';
import { freePort, requestAs, requireNginx, sendAs, startHaproxy, startNginx, type ReverseProxy } from './support/reverse-proxy.js';
import { exitWithin, killStarted, type Running, sandboxedPid, startLogging } from './support/logging-process.js';
import { imageFiles, podSandboxArgs, RUNTIME_UID } from './support/pod-sandbox.js';

const SIGTERM_EXIT_BOUND_MS = 10_000;

const tempDirs: string[] = [];

afterAll(async () => {
  killStarted();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('emitted service end to end (Node 26)', () => {
  beforeAll(requireServiceTools);
  describe.each(['fastify', 'express'] as const)('%s', (framework) => {
    let root: string;
    let svc: string;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), `chs-e2e-${framework}-`));
      tempDirs.push(root);
      svc = join(root, 'svc');
      const answers = await answersFor('e2e-svc', { framework, nodeVersion: '26', description: `E2E "${framework}" & <co>` });
      for (const [path, bytes] of await renderService(answers)) {
        await mkdir(dirname(join(svc, path)), { recursive: true });
        await writeFile(join(svc, path), bytes);
      }
      // One install per framework, shared by every case below. `npm ci` installs exactly the emitted
      // package-lock.json and fails if it disagrees with package.json, as the Dockerfile and CI will.
      await npm(['ci'], svc);
    }, 600_000);

    it('npm test: the service own test suite passes', async () => {
      const result = await npm(['test'], svc, 120_000);
      expect(result.all).toMatch(/ℹ fail 0/);
      expect(result.all).toMatch(/ℹ pass [1-9]\d*/);
    });

    it('npm run typecheck and npm run build succeed', async () => {
      await npm(['run', 'typecheck'], svc, 120_000);
      await npm(['run', 'build'], svc, 120_000);
      expect(existsSync(join(svc, 'dist', 'server.js'))).toBe(true);
      expect(existsSync(join(svc, 'dist', 'app.js'))).toBe(true);
    });

    it('node dist/server.js serves /healthz and exits 0 on SIGTERM', async () => {
      const run = startLogging(node26, ['dist/server.js'], {
        cwd: svc,
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', SHUTDOWN_DELAY_MS: '200', SECRETS_DIR: join(root, 'none') },
      });
      const { port } = await run.waitForLog('listening');
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      run.child.kill('SIGTERM');
      expect(await exitWithin(run, SIGTERM_EXIT_BOUND_MS)).toBe(0);
      expect(run.lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['shutting down: readiness is now false', 'shutdown complete']),
      );
      for (const line of run.lines) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    describe('under the pod constraints (bubblewrap)', () => {
      let app: string;
      let secrets: string;
      let sandbox: string[];

      beforeAll(async () => {
        app = await imageFiles(svc, join(root, 'app'));

        secrets = join(root, 'secrets');
        await mkdir(secrets);
        await writeFile(join(secrets, 'api-token'), 'e2e-secret-value\n', { mode: 0o444 });

        sandbox = podSandboxArgs({ app, mounts: { '/run/secrets': secrets } });
      }, 600_000);

      it('the sandbox is what the pod is: uid 65532, only /tmp writable', async () => {
        const probe = `
          const fs = require('node:fs');
          const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
          console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), pid: process.pid,
            root: tryWrite('/probe'), app: tryWrite('dist/probe.js'), secrets: tryWrite('/run/secrets/probe'),
            tmp: tryWrite('/tmp/probe') }));`;
        const { stdout } = await execa(bwrap!, [...sandbox, node26, '-e', probe], { timeout: 30_000 });
        expect(JSON.parse(stdout)).toEqual({
          uid: RUNTIME_UID,
          gid: RUNTIME_UID,
          pid: 1,
          root: 'EROFS',
          app: 'EROFS',
          secrets: 'EROFS',
          tmp: 'written',
        });
      });

      it('node dist/server.js with production dependencies only: reads the secret, serves, exits 0 on SIGTERM', async () => {
        const run = startLogging(
          bwrap!,
          [...sandbox, '--setenv', 'PORT', '0', '--setenv', 'METRICS_PORT', '0', '--setenv', 'SHUTDOWN_DELAY_MS', '300', node26, 'dist/server.js'],
          { cwd: app, env: process.env },
        );
        const listening = await run.waitForLog('listening');
        const metrics = await run.waitForLog('metrics listener started');
        const base = `http://127.0.0.1:${listening.port}`;

        expect((await run.waitForLog('secret files found')).secrets).toEqual(['api-token']);
        const health = await fetch(`${base}/healthz`);
        expect(health.status).toBe(200);
        expect(health.headers.get('x-content-type-options')).toBe('nosniff');
        expect((await fetch(`${base}/readyz`)).status).toBe(200);
        expect(await (await fetch(`${base}/hello?name=Pod`)).json()).toEqual({ message: 'Hello, Pod!' });
        const scrape = await (await fetch(`http://127.0.0.1:${metrics.metricsPort}/metrics`)).text();
        expect(scrape).toMatch(/^service_ready 1$/m);

        process.kill(sandboxedPid(run.child.pid!), 'SIGTERM');
        // During SHUTDOWN_DELAY_MS the server still answers, but is no longer ready.
        let readyz = 200;
        for (const deadline = Date.now() + 250; readyz === 200 && Date.now() < deadline; ) {
          readyz = (await fetch(`${base}/readyz`)).status;
        }
        expect(readyz).toBe(503);
        expect(await exitWithin(run, SIGTERM_EXIT_BOUND_MS)).toBe(0);
        expect(run.lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
        expect(run.raw.join('\n')).not.toContain('e2e-secret-value');
        expect(run.raw.filter((l) => l.startsWith('stderr:'))).toEqual([]);
      });
    });

    describe('under hostile traffic and behind a reverse proxy (node dist/server.js)', () => {
      beforeAll(async () => {
        requireNginx();
        if (!existsSync(join(svc, 'dist', 'server.js'))) await npm(['run', 'build'], svc, 120_000);
      }, 300_000);

      const serve = async (env: Record<string, string>, command: { cmd: string; args: string[] } = { cmd: node26, args: ['dist/server.js'] }) => {
        const run = startLogging(command.cmd, command.args, {
          cwd: svc,
          env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', SECRETS_DIR: join(root, 'none'), SHUTDOWN_DELAY_MS: '0', ...env },
        });
        const { port } = await run.waitForLog('listening');
        return { run, port: Number(port) };
      };
      const lineOf = (run: Running, reqId: string | undefined) => run.lines.find((l) => l.msg === 'request' && l.reqId === reqId);

      it("the rate-limit store at its cap and every connection the cap allows, holding 15 KiB of headers each, fit in half the chart's memory limit", async (ctx) => {
        const limit = parse(readFileSync(join(svc, 'chart', 'values.yaml'), 'utf8')).resources.limits.memory as string;
        const limitBytes = Number(/^(\d+)Mi$/.exec(limit)![1]) * 2 ** 20;
        const isolation = createIsolation({ memoryBytes: limitBytes });
        const command = isolation.wrap(`e2e-${framework}`, node26, ['dist/server.js']);
        if (isolation.memoryReason !== undefined) {
          isolation.cleanup();
          ctx.skip(`no memory cgroup of ${limit} on this machine: ${isolation.memoryReason}`);
        }
        // The production caps: 10,000 clients in the store (every X-Forwarded-For address counts as a client,
        // 127.0.0.1 being a trusted proxy) and 1,000 connections. The timeouts are lengthened so that the held
        // connections stay for the whole test; request lines are not written: this measures the service, not
        // the log pipe.
        const [port, metricsPort] = [await freePort(), await freePort()];
        const run = startLogging(command.cmd, command.args, {
          cwd: svc,
          env: {
            PATH: process.env.PATH,
            HOST: '127.0.0.1',
            PORT: String(port),
            METRICS_PORT: String(metricsPort),
            TRUST_PROXY: '127.0.0.1',
            LOG_LEVEL: 'warn',
            SECRETS_DIR: join(root, 'none'),
            SHUTDOWN_DELAY_MS: '0',
            SHUTDOWN_TIMEOUT_MS: '1000',
            ...Object.fromEntries(['HEADERS_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'IDLE_TIMEOUT_MS'].map((name) => [name, '600000'])),
          },
        });
        const held: Socket[] = [];
        const agent = new Agent({ keepAlive: true, maxSockets: 16 });
        const get = (p: number, path: string, forwardedFor?: string) =>
          new Promise<string>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port: p, path, agent, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }, (res) => {
              let body = '';
              res.on('data', (d) => (body += d));
              res.on('end', () => resolve(body));
            });
            req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no answer within 10 s`)));
            req.on('error', reject);
            req.end();
          });
        const flood = async (count: number, forwardedFor: (i: number) => string) => {
          let next = 0;
          await Promise.all(Array.from({ length: 16 }, async () => {
            while (next < count) await get(port, '/hello', forwardedFor(next++));
          }));
        };
        const rssAnon = () => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.child.pid}/status`, 'utf8'))![1]) * 1024;
        try {
          for (const deadline = Date.now() + 15_000; !(await get(port, '/healthz').catch(() => '')); await new Promise((r) => setTimeout(r, 50))) {
            if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`not serving within 15 s:\n${run.raw.join('\n')}`);
          }
          await flood(1_000, (i) => `10.0.${i >> 8}.${i & 255}`);
          const before = rssAnon();
          // All connections MAX_CONNECTIONS allows but the flood's 16 (and a scrape), each mid-headers.
          for (let i = 0; i < 1_000 - 16 - 1; i++) {
            const socket = connect(port, '127.0.0.1');
            socket.on('error', () => {});
            await new Promise((resolve) => socket.once('connect', resolve));
            socket.write(`GET /hello HTTP/1.1\r\nHost: e2e\r\nX-Held: ${'a'.repeat(15 * 1024)}`);
            held.push(socket);
          }
          // The longest keys there are: IPv6 addresses, each in a /56 of its own. Then values that are not IPs.
          await flood(12_000, (i) => `ffff:${(i >> 8).toString(16)}:${(i & 255).toString(16)}ff:ff00:ffff:ffff:ffff:ffff`);
          await flood(500, () => 'x'.repeat(2048));
          const growth = rssAnon() - before;
          const metrics = await get(metricsPort, '/metrics');
          expect(metrics).toMatch(/^rate_limit_clients 10000$/m);
          expect(metrics).toMatch(/^rate_limit_evictions_total 3001$/m);
          expect(held.filter((socket) => !socket.destroyed)).toHaveLength(held.length);
          // Measured: about 10 MiB for the store and its garbage, 30 MiB for the held connections.
          expect(growth, `anonymous RSS grew ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(64 * 2 ** 20);
          // The held connections never finish their headers: the drain deadline closes them, and no request was cut.
          run.child.kill('SIGTERM');
          expect(await exitWithin(run, SIGTERM_EXIT_BOUND_MS)).toBe(0);
          const peak = isolation.peakBytes(`e2e-${framework}`)!;
          expect(peak, `cgroup peak ${(peak / 2 ** 20).toFixed(1)} MiB of ${limit}`).toBeLessThan(limitBytes / 2);
        } finally {
          agent.destroy();
          for (const socket of held) socket.destroy();
          run.child.kill('SIGKILL');
          await run.exited;
          isolation.cleanup();
        }
      });

      it('behind nginx with the TRUST_PROXY the chart sets from the proxy’s address: a bucket and a logged address per client, spoofing is useless', async () => {
        const ingress = (valuesMatrix['ingress+tls'] as { ingress: unknown }).ingress;
        const { TRUST_PROXY } = await deploymentEnv(join(svc, 'chart'), { ingress, config: { trustProxy: ['127.0.0.1'] } });
        expect(TRUST_PROXY).toBe('127.0.0.1');
        const { run, port } = await serve({ TRUST_PROXY: TRUST_PROXY!, RATE_LIMIT_MAX: '3' });
        const proxy = await startNginx(port);
        try {
          const as = async (client: string, headers?: Record<string, string>) => {
            const { status, reqId } = await requestAs(proxy.port, client, '/hello', headers);
            await waitForLine(run, reqId);
            return [status, lineOf(run, reqId)?.ip];
          };
          const a = '203.0.113.10';
          const b = '198.51.100.20';
          expect([await as(a), await as(a), await as(a), await as(a)]).toEqual([[200, a], [200, a], [200, a], [429, a]]);
          expect(await as(b)).toEqual([200, b]);
          // A client naming another address: nginx appends the real one, and only that hop is trusted.
          expect(await as(a, { 'x-forwarded-for': b })).toEqual([429, a]);
          const c = '192.0.2.30';
          const spoofed = [];
          for (let i = 0; i < 4; i++) spoofed.push(await as(c, { 'x-forwarded-for': `203.0.113.${i}` }));
          expect(spoofed).toEqual([[200, c], [200, c], [200, c], [429, c]]);
          expect(await as('2001:db8:1:2ff::1')).toEqual([200, '2001:db8:1:2ff::1']);
          // A caller reaching the service without the proxy (from 127.0.0.2, outside TRUST_PROXY) is itself.
          const direct = [];
          for (let i = 0; i < 4; i++) {
            const { status, reqId } = await requestDirect(port, '127.0.0.2', { 'x-forwarded-for': `203.0.113.${100 + i}` });
            await waitForLine(run, reqId);
            direct.push([status, lineOf(run, reqId)?.ip]);
          }
          expect(direct).toEqual([[200, '127.0.0.2'], [200, '127.0.0.2'], [200, '127.0.0.2'], [429, '127.0.0.2']]);
        } finally {
          await proxy.stop();
          run.child.kill('SIGKILL');
        }
      });

      it.each([
        ['nginx pooling upstream connections as ingress-nginx does', (port: number) => startNginx(port, { pool: true })],
        ['HAProxy with http-reuse always', startHaproxy],
      ] as [string, (port: number) => Promise<ReverseProxy>][])(
        'behind %s, mixed traffic: no 502 for well-behaved clients, no request run without its answer',
        async (_proxy, start) => {
          const { run, port } = await serve({ TRUST_PROXY: '127.0.0.1', RATE_LIMIT_MAX: '20', BODY_LIMIT_BYTES: '1024' });
          const proxy = await start(port);
          try {
            const json = { 'content-type': 'application/json' };
            // Clients answered before their body is read, on connections the proxy then pools for the others.
            const early = [
              { method: 'POST', path: '/hello', headers: json, body: `{"name":"${'a'.repeat(2_000)}"}` },
              { method: 'POST', path: '/hello', headers: { ...json, 'content-encoding': 'gzip' }, body: '{"name":"Ada"}' },
              { method: 'POST', path: '/wp-login.php', headers: json, body: '{"user":"admin"}' },
              { method: 'GET', path: '/hello', body: '{"name":"Ada"}' },
            ];
            const answers: { client: string; status: number; reqId: string | undefined }[] = [];
            const pipelined: number[] = [];
            const as = async (client: string, request: Parameters<typeof sendAs>[2]) => answers.push({ client, ...(await sendAs(proxy.port, client, request)) });
            await Promise.all([
              // Ten well-behaved clients, each under the rate limit.
              ...Array.from({ length: 10 }, async (_, c) => {
                for (let i = 0; i < 15; i++) {
                  await as(`203.0.113.${c}`, i % 2 ? { method: 'POST', path: '/hello', headers: json, body: '{"name":"Ada"}' } : { method: 'GET', path: `/hello?name=n${i}` });
                }
              }),
              // Four clients whose requests are answered early, and one far over the rate limit.
              ...early.map(async (request, c) => {
                for (let i = 0; i < 30; i++) await as(`198.51.100.${c}`, request);
              }),
              (async () => {
                for (let i = 0; i < 60; i++) await as('192.0.2.99', { method: 'POST', path: '/hello', headers: json, body: '{"name":"Ada"}' });
              })(),
              // A client that pipelines, straight to the service: the proxy's pooled connections, in use, are
              // switched to sliced reading (src/pipeline.ts) while the others' traffic flows.
              (async () => {
                await new Promise((resolve) => setTimeout(resolve, 100));
                pipelined.push(...(await pipelineDirect(port, '127.0.0.3', 300)));
              })(),
            ]);
            expect(pipelined).toEqual(Array<number>(300).fill(200));
            const good = answers.filter((a) => a.client.startsWith('203.0.113.'));
            expect(good.map((a) => a.status)).toEqual(Array<number>(150).fill(200));
            expect(answers.filter((a) => a.status === 502 || a.status === 504)).toEqual([]);
            expect(answers.filter((a) => a.client === '192.0.2.99').map((a) => a.status)).toEqual([...Array<number>(20).fill(200), ...Array<number>(40).fill(429)]);
            // Every request the service ran is one whose answer reached its client.
            await new Promise((resolve) => setTimeout(resolve, 500));
            const delivered = new Set(answers.map((a) => a.reqId));
            const ran = run.lines.filter((l) => l.msg === 'request');
            expect(ran.filter((l) => l.aborted)).toEqual([]);
            expect(ran.filter((l) => !delivered.has(l.reqId as string))).toEqual([]);
          } finally {
            await proxy.stop();
            run.child.kill('SIGKILL');
          }
        },
        120_000,
      );

      it('with the proxy not trusted (no HTTPRoute, no Ingress, no value): every client is the proxy and X-Forwarded-For is ignored', async () => {
        const { TRUST_PROXY } = await deploymentEnv(join(svc, 'chart'), { httpRoute: { enabled: false } });
        expect(TRUST_PROXY).toBeUndefined();
        const { run, port } = await serve({ RATE_LIMIT_MAX: '3' });
        const proxy = await startNginx(port);
        try {
          const statuses = [];
          for (const client of ['203.0.113.10', '198.51.100.20', '192.0.2.30', '192.0.2.31']) {
            const { status, reqId } = await requestAs(proxy.port, client, '/hello', { 'x-forwarded-for': client });
            await waitForLine(run, reqId);
            statuses.push([status, lineOf(run, reqId)?.ip]);
          }
          expect(statuses).toEqual([[200, '127.0.0.1'], [200, '127.0.0.1'], [200, '127.0.0.1'], [429, '127.0.0.1']]);
          const direct = await fetch(`http://127.0.0.1:${port}/hello`, { headers: { 'x-forwarded-for': '203.0.113.77' } });
          expect(direct.status).toBe(429);
          const reqId = direct.headers.get('x-request-id') ?? undefined;
          await waitForLine(run, reqId);
          expect(lineOf(run, reqId)?.ip).toBe('127.0.0.1');
        } finally {
          await proxy.stop();
          run.child.kill('SIGKILL');
        }
      });
    });
  });
});

/** GET /hello straight to the service from `localAddress` (a loopback address), with `headers`. */
function requestDirect(port: number, localAddress: string, headers: Record<string, string>): Promise<{ status: number; reqId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello', localAddress, agent: false, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, reqId: res.headers['x-request-id'] as string | undefined });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.once('error', reject).end();
  });
}

/** Sends `count` GET /healthz at once on one connection from `localAddress` and reads every answer: their statuses (bounded: 10 s). */
function pipelineDirect(port: number, localAddress: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    const statuses = () => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${statuses().length} of ${count} pipelined answers within 10 s`));
    }, 10_000);
    socket.once('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: pipeliner\r\n\r\n'.repeat(count)));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (statuses().length < count) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(statuses());
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Waits (bounded) for the request line of `reqId`. */
async function waitForLine(run: Running, reqId: string | undefined): Promise<void> {
  for (const deadline = Date.now() + 5_000; !run.lines.some((l) => l.msg === 'request' && l.reqId === reqId); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`no request line for ${reqId}:\n${run.raw.slice(-20).join('\n')}`);
  }
}
