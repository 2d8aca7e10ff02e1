import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATABASE_DEFAULTS, loadDatabaseConfig, loadMigrationsConfig, MIGRATIONS_TIMEOUT_MS } from '../src/database-config.ts';
import { DATABASE_PORT } from '../src/database-driver.ts';
import { sql } from '../src/sql.ts';
import { assertRefusesTlsOff, caFolder, offlineBackingEnv, PLACEHOLDER_CA, startupRefusal } from './offline-backing.ts';

describe('database configuration', () => {
  let dir: string;
  let caFile: string;
  const base = () => ({ DB_HOST: 'db.internal', DB_NAME: 'orders', DB_USER: 'orders_app', DB_TLS_CA_FILE: caFile });

  before(() => ({ dir, caFile } = caFolder('db-config-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server certificate by default, against the mounted CA and the host name', () => {
    const config = loadDatabaseConfig(base());
    assert.equal(config.port, DATABASE_PORT);
    assert.deepEqual(config.tls, { ca: PLACEHOLDER_CA, caFile, servername: 'db.internal' });
    assert.equal(config.poolMax, DATABASE_DEFAULTS.poolMax);
    assert.equal(config.connectTimeoutMs, DATABASE_DEFAULTS.connectTimeoutMs);
    assert.equal(config.statementTimeoutMs, DATABASE_DEFAULTS.statementTimeoutMs);
    assert.equal(config.readinessCacheMs, DATABASE_DEFAULTS.readinessCacheMs);
  });

  it('names every missing or bad variable in one line', () => {
    assert.throws(
      () => loadDatabaseConfig({ DB_POOL_MAX: '0', DB_TLS_CA_FILE: join(dir, 'missing.crt') }),
      (err: Error) =>
        /DB_HOST is required/.test(err.message) &&
        /DB_NAME is required/.test(err.message) &&
        /DB_USER is required/.test(err.message) &&
        /DB_POOL_MAX="0" must be a whole number from 1/.test(err.message) &&
        /DB_TLS_CA_FILE .*missing\.crt cannot be read \(ENOENT\)/.test(err.message) &&
        !err.message.includes('\n'),
    );
    assert.throws(() => loadMigrationsConfig(base()), /DB_MIGRATIONS_USER is required/);
  });

  it('refuses DB_TLS=off unless INSECURE_DEV_MODE=true, and says why', () => {
    assert.throws(() => loadDatabaseConfig({ ...base(), DB_TLS: 'off' }), /DB_TLS=off would send the \w+ password and data in clear text: refused unless INSECURE_DEV_MODE=true/);
    assert.throws(() => loadDatabaseConfig({ ...base(), DB_TLS: 'off', INSECURE_DEV_MODE: '1' }), /DB_TLS=off/);
    assert.equal(loadDatabaseConfig({ ...base(), DB_TLS: 'off', INSECURE_DEV_MODE: 'true' }).tls, false);
    assert.throws(() => loadDatabaseConfig({ ...base(), DB_TLS: 'require' }), /DB_TLS="require" must be verify-full or off/);
  });

  it('the process refuses to start with TLS off outside development: one fatal line, exit 1', () => {
    assertRefusesTlsOff(dir, caFile, 'DB_TLS');
  });

  it('the process refuses to start without its password file, naming the file and never a value', () => {
    const empty = mkdtempSync(join(tmpdir(), 'db-no-secret-'));
    const env = { ...offlineBackingEnv(dir), SECRETS_DIR: empty };
    const { status, lines } = startupRefusal(env);
    rmSync(empty, { recursive: true, force: true });
    assert.equal(status, 1);
    assert.match(lines.at(-1)!.msg, /^cannot start: secret database-password not found: expected the file .*database-password$/);
  });

  it('the process refuses to start with a blank password file, even with PGPASSWORD set: one fatal line', () => {
    const blank = mkdtempSync(join(tmpdir(), 'db-blank-secret-'));
    writeFileSync(join(blank, 'database-password'), ' \n');
    const { status, lines } = startupRefusal({ ...offlineBackingEnv(dir), SECRETS_DIR: blank, PGPASSWORD: 'from-the-environment' });
    rmSync(blank, { recursive: true, force: true });
    assert.equal(status, 1);
    assert.match(lines.at(-1)!.msg, /^cannot start: secret database-password is empty: .*database-password must hold the password$/);
  });

  it('the migrations Job has its own statement timeout, not the pods\' one', () => {
    const env = { ...base(), DB_MIGRATIONS_USER: 'orders_migrations', DB_STATEMENT_TIMEOUT_MS: '1000' };
    assert.equal(loadMigrationsConfig(env).statementTimeoutMs, MIGRATIONS_TIMEOUT_MS);
    assert.equal(loadMigrationsConfig({ ...env, DB_MIGRATIONS_TIMEOUT_MS: '120000' }).statementTimeoutMs, 120_000);
    assert.equal(loadDatabaseConfig(env).statementTimeoutMs, 1_000);
  });

  it('SQL is constant text: sql`` refuses a value pasted in', () => {
    assert.equal(sql`SELECT 1`, 'SELECT 1');
    const value = 'x';
    // @ts-expect-error: TypeScript refuses ${} in sql``, and so does the function.
    assert.throws(() => sql`SELECT ${value}`, /takes no \$\{\}/);
  });
});
