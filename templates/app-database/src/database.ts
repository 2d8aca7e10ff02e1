import { SecretFile } from './backing-config.ts';
import { DATABASE_PASSWORD_FILE, type DatabaseConfig } from './database-config.ts';
import { openPool } from './database-driver.ts';
import { readiness } from './http-service.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { type DatabaseUnavailable, type DriverPool, type Sql, sql } from './sql.ts';

/** A readiness check that takes longer counts as a failure: under the chart's probe timeout (2 s). */
const READINESS_TIMEOUT_MS = 1_000;

/** Retry-After of a 503 answered because the database cannot answer now: clients back off instead of hammering it. */
export const RETRY_AFTER_S = 5;

/**
 * The service's database: one bounded pool (src/database-driver.ts), its password re-read when the mounted file
 * changes, and a readiness check that asks the database at most once per DB_READINESS_CACHE_MS. A query that
 * succeeded within that time counts as a check. The check runs on a connection of its own (a pool of one), so it
 * answers "can this pod reach its database" without queueing behind the requests that fill the main pool.
 */
export class Database {
  readonly #config: DatabaseConfig;
  readonly #logger: Logger;
  readonly #password: SecretFile;
  #pool: DriverPool;
  #probe: DriverPool;
  /** Pools replaced after a password change, still finishing their queries. */
  readonly #retiring = new Set<Promise<void>>();
  #available: boolean | undefined;
  #lastSuccessAt = Number.NEGATIVE_INFINITY;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<boolean> | undefined;

  constructor(config: DatabaseConfig, secretsDir: string, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#password = new SecretFile(DATABASE_PASSWORD_FILE, secretsDir, config.secretsReloadMs, (password) => this.#rotate(password), logger);
    [this.#pool, this.#probe] = this.#open(this.#password.value);
  }

  /** The main pool, and the readiness check's own connection (its statement bounded by the check's timeout). */
  #open(password: string): [DriverPool, DriverPool] {
    const probe = { ...this.#config, poolMax: 1, statementTimeoutMs: READINESS_TIMEOUT_MS };
    return [openPool(this.#config, password, this.#logger), openPool(probe, password, this.#logger)];
  }

  /** A parameterized statement: `statement` is constant SQL (see sql.ts), `params` its values. */
  async query<Row = Record<string, unknown>>(statement: Sql, params: readonly unknown[] = []): Promise<Row[]> {
    const rows = await this.#pool.query<Row>(statement, params);
    this.#lastSuccessAt = performance.now();
    if (this.#available === false) this.#transition(true);
    return rows;
  }

  /** Whether the database answers: a query that succeeded, or a check, within DB_READINESS_CACHE_MS; one check at a time. */
  async available(): Promise<boolean> {
    const now = performance.now();
    if (now - this.#lastSuccessAt < this.#config.readinessCacheMs) return true;
    if (this.#available !== undefined && now - this.#checkedAt < this.#config.readinessCacheMs) return this.#available;
    this.#checking ??= this.#check().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  async #check(): Promise<boolean> {
    // The probe's failure is this check's answer; the main pool's success is recorded by query().
    let error: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#probe.query(sql`SELECT 1`),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      error = err;
    } finally {
      clearTimeout(timer);
    }
    this.#checkedAt = performance.now();
    if (error === undefined) {
      if (this.#available !== true) this.#transition(true);
    } else if (this.#available !== false) this.#transition(false, error);
    return error === undefined;
  }

  #transition(available: boolean, error?: unknown): void {
    const where = { host: this.#config.host, port: this.#config.port, database: this.#config.database };
    if (available) this.#logger.info(where, this.#available === undefined ? 'database reachable' : 'database reachable again: readiness restored');
    else {
      // The driver's message names the failure (refused, timeout, authentication, certificate), never the password.
      const driverError = ((error as Error).cause ?? error) as Error & { code?: unknown };
      this.#logger.error({ ...where, err: { message: driverError.message, code: driverError.code ?? (error as { code?: unknown }).code } }, 'database unreachable: readiness is now false');
    }
    this.#available = available;
  }

  /** The one short line of a request answered 503 because the database cannot answer now: what failed, never the statement. */
  reportUnavailable(err: DatabaseUnavailable): void {
    this.#logger.warn({ err: { class: err.kind, code: err.code } }, 'database unavailable: answered 503');
  }

  /** A new password: new connections use it; the old pools finish their queries, then close. */
  #rotate(password: string): void {
    const old = [this.#pool, this.#probe];
    [this.#pool, this.#probe] = this.#open(password);
    const ended = Promise.all(old.map((pool) => pool.end()))
      .then(() => {})
      .catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'closing the pool of the previous password failed'))
      .finally(() => this.#retiring.delete(ended));
    this.#retiring.add(ended);
  }

  /** On shutdown, after the HTTP server has drained: waits for queries under way, then closes every connection. */
  async close(): Promise<void> {
    this.#password.close();
    await Promise.all([this.#pool.end(), this.#probe.end(), ...this.#retiring]);
  }
}

/** /readyz with a database: ready only while the process is ready and the database answers. */
export async function databaseReadiness(lifecycle: Lifecycle, database: Database | undefined) {
  const process = readiness(lifecycle);
  if (process.status !== 200 || database === undefined || (await database.available())) return process;
  return { status: 503 as const, body: { status: 'database_unavailable' } };
}
