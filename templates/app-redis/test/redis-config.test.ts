import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadRedisConfig, REDIS_DEFAULTS } from '../src/redis-config.ts';
import { assertRefusesTlsOff, caFolder } from './offline-backing.ts';

describe('Redis configuration', () => {
  let dir: string;
  let caFile: string;

  before(() => ({ dir, caFile } = caFolder('redis-config-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server certificate by default; keys under the service name; short timeouts', () => {
    const config = loadRedisConfig({ REDIS_HOST: 'redis.internal', REDIS_TLS_CA_FILE: caFile });
    assert.equal(config.port, 6379);
    assert.equal(config.tls && config.tls.servername, 'redis.internal');
    assert.equal(config.keyPrefix, REDIS_DEFAULTS.keyPrefix);
    assert.equal(config.commandTimeoutMs, REDIS_DEFAULTS.commandTimeoutMs);
    assert.equal(config.passwordOptional, false);
  });

  it('refuses REDIS_TLS=off unless INSECURE_DEV_MODE=true', () => {
    assert.throws(() => loadRedisConfig({ REDIS_HOST: 'redis', REDIS_TLS: 'off' }), /REDIS_TLS=off would send the Redis password and data in clear text/);
    assert.equal(loadRedisConfig({ REDIS_HOST: 'redis', REDIS_TLS: 'off', INSECURE_DEV_MODE: 'true' }).tls, false);
    assert.throws(() => loadRedisConfig({ REDIS_TLS_CA_FILE: caFile }), /REDIS_HOST is required/);
  });

  it('the process refuses to start with Redis TLS off outside development: one fatal line, exit 1', () => {
    assertRefusesTlsOff(dir, caFile, 'REDIS_TLS');
  });
});
