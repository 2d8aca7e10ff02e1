import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Database } from '../src/database.ts';
import { loadDatabaseConfig } from '../src/database-config.ts';
import { sql } from '../src/sql.ts';
import { memoryLogger, startService, type RunningService } from './helpers.ts';

/**
 * Against a real database server, when the environment names one (the CI pipeline starts a database service
 * container and sets these); skipped, saying so, otherwise:
 *   TEST_DB_HOST, TEST_DB_PORT, TEST_DB_NAME, TEST_DB_USER, TEST_DB_PASSWORD_FILE  the service's user
 *   TEST_DB_MIGRATIONS_USER, TEST_DB_MIGRATIONS_PASSWORD_FILE                      the tables' owner (default: the same)
 *   TEST_DB_CA_FILE  the CA of the server's certificate; unset: TLS off, as for CI's throwaway server (INSECURE_DEV_MODE)
 */
const given = process.env;
const skip = given.TEST_DB_HOST
  ? false
  : 'no database: set TEST_DB_HOST, TEST_DB_PORT, TEST_DB_NAME, TEST_DB_USER and TEST_DB_PASSWORD_FILE to run these (the CI pipeline does)';

describe('database integration (a real server)', { skip }, () => {
  let secrets: string;
  let env: Record<string, string>;
  let service: RunningService;
  let database: Database;
  // Names this run writes, so that a shared database's earlier rows do not matter.
  const run = `Run ${process.pid} ${Date.now() % 100_000}`;

  before(async () => {
    secrets = mkdtempSync(join(tmpdir(), 'db-secrets-'));
    copyFileSync(given.TEST_DB_PASSWORD_FILE!, join(secrets, 'database-password'));
    copyFileSync(given.TEST_DB_MIGRATIONS_PASSWORD_FILE ?? given.TEST_DB_PASSWORD_FILE!, join(secrets, 'database-migrations-password'));
    env = {
      SECRETS_DIR: secrets,
      DB_HOST: given.TEST_DB_HOST!,
      DB_PORT: given.TEST_DB_PORT ?? '',
      DB_NAME: given.TEST_DB_NAME ?? '',
      DB_USER: given.TEST_DB_USER ?? '',
      DB_MIGRATIONS_USER: given.TEST_DB_MIGRATIONS_USER ?? given.TEST_DB_USER ?? '',
      DB_READINESS_CACHE_MS: '200',
      ...(given.TEST_DB_CA_FILE ? { DB_TLS_CA_FILE: given.TEST_DB_CA_FILE } : { DB_TLS: 'off', INSECURE_DEV_MODE: 'true' }),
    };
    // CI's database container may still be starting when the job's script runs.
    const migrate = await migrateWhenUp(env, 60_000);
    assert.equal(migrate.code, 0, migrate.output);
    database = new Database(loadDatabaseConfig(env), secrets, memoryLogger().logger);
    service = await startService({ SECRETS_DIR: secrets }, { database });
  });

  after(async () => {
    await service?.close();
    await database?.close();
    rmSync(secrets, { recursive: true, force: true });
  });

  it('migrations: a second run of the migrations Job applies nothing', async () => {
    const again = await migrateProcess(env);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /"msg":"migrations: nothing to apply"/);
  });

  it('POST /greetings and GET /greetings: values travel as parameters, so quotes and SQL comments stay data', async () => {
    const name = `O'Brien -- ${run}`;
    const post = () =>
      fetch(`${service.url}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    const first = await post();
    assert.equal(first.status, 201);
    assert.deepEqual(await first.json(), { name, count: 1 });
    assert.deepEqual(await (await post()).json(), { name, count: 2 });
    const read = await fetch(`${service.url}/greetings?name=${encodeURIComponent(name)}`);
    assert.deepEqual(await read.json(), { name, count: 2 });
    const other = await fetch(`${service.url}/greetings?name=${encodeURIComponent(`${run} nobody`)}`);
    assert.deepEqual(await other.json(), { name: `${run} nobody`, count: 0 });
  });

  it('refuses names the sample route does not take, before any query', async () => {
    const bad = await fetch(`${service.url}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x; DROP TABLE greetings"}' });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${service.url}/greetings`)).status, 400);
  });

  it('/readyz answers 200 while the database answers; /healthz never asks it', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  });

  it('close() ends the pool: the database refuses work afterwards', async () => {
    const own = new Database(loadDatabaseConfig(env), secrets, memoryLogger().logger);
    assert.equal(await own.available(), true);
    await own.close();
    await assert.rejects(own.query(sql`SELECT 1`));
  });
});

/** `node src/migrate.ts` (in the image: `node dist/migrate.js`), as the migrations Job runs it. */
async function migrateProcess(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const script = fileURLToPath(new URL('../src/migrate.ts', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
    return { code: 0, output: stdout };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** What a server that is not up yet answers: no listener, a dropped connection, PostgreSQL still starting. */
const NOT_UP = /ECONNREFUSED|ECONNRESET|PROTOCOL_CONNECTION_LOST|the database system is (starting up|not yet accepting connections)/;

/** migrateProcess, again every second while the server is not up yet, for at most `ms`. */
async function migrateWhenUp(env: Record<string, string>, ms: number): Promise<{ code: number; output: string }> {
  for (const deadline = Date.now() + ms; ; await new Promise((resolve) => setTimeout(resolve, 1_000))) {
    const result = await migrateProcess(env);
    if (result.code === 0 || Date.now() > deadline || !NOT_UP.test(result.output)) return result;
  }
}
