import { SecretFile } from './backing-config.ts';
import { DATABASE_PASSWORD_FILE, type DatabaseConfig } from './database-config.ts';
import { openPool } from './database-driver.ts';
import { readiness } from './http-service.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { type DriverPool, type Sql, sql } from './sql.ts';

/** A readiness check that takes longer counts as a failure: under the chart's probe timeout (2 s). */
const READINESS_TIMEOUT_MS = 1_000;

/**
 * The service's database: one bounded pool (src/database-driver.ts), its password re-read when the mounted file
 * changes, and a readiness check that asks the database at most once per DB_READINESS_CACHE_MS. A query that
 * succeeded within that time counts as a check, so a busy pool never fails its own probe.
 */
export class Database {
  readonly #config: DatabaseConfig;
  readonly #logger: Logger;
  readonly #password: SecretFile;
  #pool: DriverPool;
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
    this.#pool = openPool(config, this.#password.value, logger);
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
    let error: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.query(sql`SELECT 1`),
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
    // The driver's message names the failure (refused, timeout, authentication, certificate), never the password.
    else this.#logger.error({ ...where, err: { message: (error as Error).message, code: (error as { code?: unknown }).code } }, 'database unreachable: readiness is now false');
    this.#available = available;
  }

  /** A new password: new connections use it; the old pool finishes its queries, then closes. */
  #rotate(password: string): void {
    const old = this.#pool;
    this.#pool = openPool(this.#config, password, this.#logger);
    const ended = old
      .end()
      .catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'closing the pool of the previous password failed'))
      .finally(() => this.#retiring.delete(ended));
    this.#retiring.add(ended);
  }

  /** On shutdown, after the HTTP server has drained: waits for queries under way, then closes every connection. */
  async close(): Promise<void> {
    this.#password.close();
    await Promise.all([this.#pool.end(), ...this.#retiring]);
  }
}

/** /readyz with a database: ready only while the process is ready and the database answers. */
export async function databaseReadiness(lifecycle: Lifecycle, database: Database | undefined) {
  const process = readiness(lifecycle);
  if (process.status !== 200 || database === undefined || (await database.available())) return process;
  return { status: 503 as const, body: { status: 'database_unavailable' } };
}
