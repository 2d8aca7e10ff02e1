import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEFAULTS, loadConfig } from '../src/config.ts';
import { DEFAULT_PORT } from '../src/service-info.ts';

describe('configuration', () => {
  it('has production defaults (the README documents them)', () => {
    assert.deepEqual(loadConfig({}), {
      port: DEFAULT_PORT,
      host: '0.0.0.0',
      logLevel: 'info',
      secretsDir: '/run/secrets',
      shutdownDelayMs: 5_000,
      shutdownTimeoutMs: 10_000,
      rateLimit: { max: 100, windowMs: 60_000, maxClients: 10_000 },
      limits: {
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 8_000,
        idleTimeoutMs: 5_000,
        keepAliveTimeoutMs: 72_000,
        maxConnections: 1_000,
        maxConnectionsPerIp: 100,
        bodyLimitBytes: 1_048_576,
      },
      metricsPort: undefined,
      probePort: undefined,
      trustProxy: false,
    });
  });

  it('ends every request still arriving when draining starts before the drain deadline', () => {
    // Node checks the headers and request timeouts every 500 ms (http-server.ts), so they fire up to that late.
    assert.ok(DEFAULTS.headersTimeoutMs <= DEFAULTS.requestTimeoutMs);
    assert.ok(DEFAULTS.requestTimeoutMs + 500 < DEFAULTS.shutdownTimeoutMs);
    assert.ok(DEFAULTS.idleTimeoutMs + 500 < DEFAULTS.shutdownTimeoutMs);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SECRETS_DIR: '/etc/app-secrets',
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '7',
      RATE_LIMIT_WINDOW_MS: '1000',
      METRICS_PORT: '9464',
      PROBE_PORT: '9465',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      RATE_LIMIT_MAX_CLIENTS: '50',
      HEADERS_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: '2000',
      IDLE_TIMEOUT_MS: '1500',
      KEEP_ALIVE_TIMEOUT_MS: '3000',
      MAX_CONNECTIONS: '20',
      MAX_CONNECTIONS_PER_IP: '5',
      BODY_LIMIT_BYTES: '1024',
    });
    assert.equal(config.port, 9000);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.secretsDir, '/etc/app-secrets');
    assert.equal(config.shutdownTimeoutMs, 3000);
    assert.deepEqual(config.rateLimit, { max: 7, windowMs: 1000, maxClients: 50 });
    assert.deepEqual(config.limits, {
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      idleTimeoutMs: 1500,
      keepAliveTimeoutMs: 3000,
      maxConnections: 20,
      maxConnectionsPerIp: 5,
      bodyLimitBytes: 1024,
    });
    assert.equal(config.metricsPort, 9464);
    assert.equal(config.probePort, 9465);
    assert.deepEqual(config.trustProxy, ['10.0.0.0/8', '127.0.0.1']);
  });

  it('takes a relative SECRETS_DIR from the working directory', () => {
    assert.equal(loadConfig({ SECRETS_DIR: './secrets' }).secretsDir, join(process.cwd(), 'secrets'));
  });

  it('rejects invalid values, naming every bad variable in one line', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', RATE_LIMIT_MAX: '-1', SHUTDOWN_TIMEOUT_MS: '0', TRUST_PROXY: 'true' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of ['PORT', 'LOG_LEVEL', 'RATE_LIMIT_MAX', 'SHUTDOWN_TIMEOUT_MS', 'TRUST_PROXY']) assert.match(err.message, new RegExp(name));
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ PORT: '80' }), /needs root/);
    assert.throws(() => loadConfig({ PORT: '9000', PROBE_PORT: '9000' }), /PROBE_PORT=9000 must differ from PORT/);
    assert.throws(() => loadConfig({ TRUST_PROXY: '1' }), /TRUST_PROXY="1": a hop count would trust any caller/);
    assert.equal(loadConfig({ TRUST_PROXY: '0' }).trustProxy, false);
    assert.throws(() => loadConfig({ PORT: '65536' }), /PORT/);
    assert.throws(() => loadConfig({ SHUTDOWN_DELAY_MS: 'soon' }), /SHUTDOWN_DELAY_MS/);
    assert.throws(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' }), /METRICS_PORT/);
    assert.throws(() => loadConfig({ HEADERS_TIMEOUT_MS: '9000' }), /HEADERS_TIMEOUT_MS=9000 must not exceed REQUEST_TIMEOUT_MS=8000/);
    for (const name of ['IDLE_TIMEOUT_MS', 'MAX_CONNECTIONS', 'MAX_CONNECTIONS_PER_IP', 'RATE_LIMIT_MAX_CLIENTS']) {
      assert.throws(() => loadConfig({ [name]: '0' }), new RegExp(`${name}="0" must be a whole number`));
    }
    assert.throws(() => loadConfig({ BODY_LIMIT_BYTES: '1e6' }), /BODY_LIMIT_BYTES/);
  });

  it('makes the process exit 1 with one clear log line on invalid configuration', () => {
    const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
    const result = spawnSync(process.execPath, [server], {
      env: { PATH: process.env.PATH, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 1, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1, result.stdout);
    const line = JSON.parse(lines[0]!) as { level: string; msg: string };
    assert.equal(line.level, 'fatal');
    assert.match(line.msg, /^invalid configuration: PORT="not-a-port"/);
  });
});
