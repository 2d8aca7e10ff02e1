import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { loadRedisConfig } from '../src/redis-config.ts';
import { SharedRateLimiter } from '../src/shared-rate-limiter.ts';
import { memoryLogger, startService, waitFor, type RunningService } from './helpers.ts';
import { offlineBackingEnv } from './offline-backing.ts';

/**
 * Against a real Redis, when the environment names one (the CI pipeline starts a Redis service container and
 * sets these); skipped, saying so, otherwise:
 *   TEST_REDIS_HOST, TEST_REDIS_PORT, TEST_REDIS_USER, TEST_REDIS_PASSWORD_FILE (unset: a Redis without AUTH)
 *   TEST_REDIS_CA_FILE  the CA of the server's certificate; unset: TLS off, as for CI's throwaway server (INSECURE_DEV_MODE)
 */
const given = process.env;
const skip = given.TEST_REDIS_HOST ? false : 'no Redis: set TEST_REDIS_HOST (and TEST_REDIS_PORT, TEST_REDIS_PASSWORD_FILE) to run these (the CI pipeline does)';

describe('rate-limit store integration (a real Redis)', { skip }, () => {
  let secrets: string;
  let env: Record<string, string>;
  const started: { service: RunningService; store: SharedRateLimiter }[] = [];

  /** A replica: its own process state, the shared Redis. */
  const replica = async (extraEnv: Record<string, string> = {}) => {
    const all = { ...env, ...extraEnv };
    const { logger, lines } = memoryLogger();
    const store = new SharedRateLimiter(loadConfig(all).rateLimit, loadRedisConfig(all), secrets, logger);
    const service = await startService(all, { rateLimitStore: store });
    started.push({ service, store });
    return { service, store, lines };
  };
  const hello = async (service: RunningService) => (await fetch(`${service.url}/hello`)).status;

  before(() => {
    secrets = mkdtempSync(join(tmpdir(), 'redis-secrets-'));
    if (given.TEST_REDIS_PASSWORD_FILE) copyFileSync(given.TEST_REDIS_PASSWORD_FILE, join(secrets, 'redis-password'));
    env = {
      SECRETS_DIR: secrets,
      REDIS_HOST: given.TEST_REDIS_HOST!,
      REDIS_PORT: given.TEST_REDIS_PORT ?? '6379',
      // Every run counts under its own keys.
      REDIS_KEY_PREFIX: `${given.TEST_REDIS_KEY_PREFIX ?? 'test:'}${process.pid}-${Date.now()}:`,
      ...(given.TEST_REDIS_USER ? { REDIS_USER: given.TEST_REDIS_USER } : {}),
      ...(given.TEST_REDIS_CA_FILE ? { REDIS_TLS_CA_FILE: given.TEST_REDIS_CA_FILE } : { REDIS_TLS: 'off', INSECURE_DEV_MODE: 'true' }),
    };
  });

  after(async () => {
    for (const { service, store } of started) {
      await service.close();
      await store.close();
    }
    rmSync(secrets, { recursive: true, force: true });
  });

  it('two replicas share one count: a client gets exactly RATE_LIMIT_MAX requests, alternating or all at once', async () => {
    const a = await replica({ RATE_LIMIT_MAX: '4' });
    const b = await replica({ RATE_LIMIT_MAX: '4' });
    await waitFor(() => [a, b].every((r) => r.lines.some((l) => l.msg === 'rate-limit store connected: counts are shared')), 5_000);
    const statuses: number[] = [];
    // Alternating, as a load balancer would spread one client's requests; two in-process stores would allow 8.
    for (let i = 0; i < 10; i++) statuses.push(await hello(i % 2 === 0 ? a.service : b.service));
    assert.equal(statuses.filter((s) => s === 200).length, 4, statuses.join(' '));
    assert.deepEqual(statuses.slice(-3), [429, 429, 429]);
    // All at once across both, under another client key prefix: each request's place comes from Redis's INCR.
    const c = await replica({ RATE_LIMIT_MAX: '10', REDIS_KEY_PREFIX: `${env.REDIS_KEY_PREFIX}burst:` });
    const d = await replica({ RATE_LIMIT_MAX: '10', REDIS_KEY_PREFIX: `${env.REDIS_KEY_PREFIX}burst:` });
    await waitFor(() => [c, d].every((r) => r.lines.some((l) => l.msg === 'rate-limit store connected: counts are shared')), 5_000);
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => hello(i % 2 === 0 ? c.service : d.service)));
    assert.equal(burst.filter((s) => s === 200).length, 10, burst.join(' '));
  });

  it('a new replica (a restart) continues the count it finds in Redis', async () => {
    const first = await replica({ RATE_LIMIT_MAX: '3', REDIS_KEY_PREFIX: `${env.REDIS_KEY_PREFIX}restart:` });
    await waitFor(() => first.lines.some((l) => l.msg === 'rate-limit store connected: counts are shared'), 5_000);
    for (let i = 0; i < 3; i++) assert.equal(await hello(first.service), 200);
    const second = await replica({ RATE_LIMIT_MAX: '3', REDIS_KEY_PREFIX: `${env.REDIS_KEY_PREFIX}restart:` });
    await waitFor(() => second.lines.some((l) => l.msg === 'rate-limit store connected: counts are shared'), 5_000);
    // Its first request already gets the shared count: refused.
    assert.equal(await hello(second.service), 429);
  });

  it('Redis unreachable: fails open to the per-pod limit (never to no limit), and says so once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-offline-'));
    const offline = await replica({ ...offlineBackingEnv(dir), SECRETS_DIR: dir, RATE_LIMIT_MAX: '2' });
    const statuses = [await hello(offline.service), await hello(offline.service), await hello(offline.service)];
    assert.deepEqual(statuses, [200, 200, 429]);
    await waitFor(() => offline.lines.some((l) => l.msg === 'rate-limit store unavailable: counting per pod until Redis answers again'), 5_000);
    assert.equal(offline.lines.filter((l) => l.msg === 'rate-limit store unavailable: counting per pod until Redis answers again').length, 1);
    rmSync(dir, { recursive: true, force: true });
  });
});
