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
import { memoryLogger, startService, waitFor } from './helpers.ts';

describe('graceful shutdown', () => {
  it('fails readiness first, keeps serving during the delay, then closes and exits 0', async () => {
    const svc = await startService({ SHUTDOWN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '5000' });
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

  it('exits 1 when draining takes longer than the timeout', async () => {
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    const shutdown = createShutdown({
      lifecycle: new Lifecycle(),
      logger,
      delayMs: 10,
      timeoutMs: 100,
      close: () => new Promise(() => {}),
      closeAll: () => [],
      exit: (code) => exits.push(code),
    });
    void shutdown('SIGTERM');
    await waitFor(() => exits.length > 0);
    assert.deepEqual(exits, [1]);
    assert.ok(lines.some((l) => /timed out/.test(String(l.msg))));
  });

  it('the real process: logs the secret names it found, serves, and exits 0 on SIGTERM', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'secrets-'));
    writeFileSync(join(secrets, 'api-token'), 'never-logged\n');
    const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
    const child = spawn(process.execPath, [server], {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', SECRETS_DIR: secrets, SHUTDOWN_DELAY_MS: '100' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines: Record<string, unknown>[] = [];
      const raw: string[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      });
      await waitFor(() => lines.some((l) => l.msg === 'listening'), 10_000);
      const port = lines.find((l) => l.msg === 'listening')!.port;
      assert.deepEqual(lines.find((l) => l.msg === 'secret files found')?.secrets, ['api-token']);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      assert.equal(code, 0);
      assert.ok(lines.some((l) => l.msg === 'shutdown complete'));
      assert.ok(!raw.some((l) => l.includes('never-logged')), 'secret values are never logged');
    } finally {
      child.kill('SIGKILL');
      rmSync(secrets, { recursive: true, force: true });
    }
  });
});
