import pg from 'pg';
import { verifiedTls } from './backing-config.ts';
import { CLIENT_TIMEOUT_MARGIN_MS, type DatabaseConfig } from './database-config.ts';
import type { Logger } from './logger.ts';
import { SERVICE_NAME } from './service-info.ts';
import { DatabaseUnavailable, type DriverPool, type MigrationScript, type Session, sql } from './sql.ts';

/** PostgreSQL through `pg` (node-postgres), the ecosystem's most used client; its Pool is bounded. */
export const DATABASE_PRODUCT = 'PostgreSQL';
export const DATABASE_PORT = 5432;

/** The sample routes' statements: `$1` is a parameter, sent apart from the statement. */
export const GREETING_SQL = {
  insert: sql`INSERT INTO greetings (name) VALUES ($1)`,
  count: sql`SELECT COUNT(*) AS count FROM greetings WHERE name = $1`,
};

/** The migration runner's statements (src/migrations.ts). PostgreSQL runs each migration in a transaction. */
export const MIGRATION_SQL = {
  // Held for the whole run: a second Job (a parallel deploy) waits, at most DB_MIGRATIONS_TIMEOUT_MS (the statement timeout).
  lock: sql`SELECT pg_advisory_lock(hashtext('schema_migrations')) AS locked`,
  lockParams: (_timeoutMs: number): unknown[] => [],
  unlock: sql`SELECT pg_advisory_unlock(hashtext('schema_migrations'))`,
  table: sql`CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(255) PRIMARY KEY, checksum char(64), applied_at timestamptz NOT NULL DEFAULT now())`,
  // A table from before checksums were recorded gets the column.
  hasChecksum: sql`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'schema_migrations' AND column_name = 'checksum'`,
  addChecksum: sql`ALTER TABLE schema_migrations ADD COLUMN checksum char(64)`,
  applied: sql`SELECT version, checksum FROM schema_migrations`,
  record: sql`INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)`,
  recordChecksum: sql`UPDATE schema_migrations SET checksum = $1 WHERE version = $2`,
  begin: sql`BEGIN`,
  commit: sql`COMMIT`,
  rollback: sql`ROLLBACK`,
  transactional: true,
};

/** SQLSTATE classes and codes that mean "not now" rather than "this statement is wrong" (routes answer 503). */
const UNAVAILABLE: [RegExp, DatabaseUnavailable['kind']][] = [
  [/^(57014|55P03|40001|40P01)$/, 'timeout'],
  [/^(08|57|58)/, 'connection'],
  [/^53/, 'overloaded'],
  [/^28/, 'authentication'],
];

/** A driver error as DatabaseUnavailable when it is one: a network error, a lost connection, a timeout, or one of the codes above. */
export function unavailable(err: unknown): unknown {
  if (err instanceof DatabaseUnavailable) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const found = UNAVAILABLE.find(([pattern]) => pattern.test(code));
    return found ? new DatabaseUnavailable(found[1], code, err) : err;
  }
  // No SQLSTATE: the network (ECONNREFUSED…), a lost connection, a TLS failure, or the pool's wait for a connection.
  return new DatabaseUnavailable(/timeout/i.test((err as Error).message) ? 'timeout' : 'connection', typeof code === 'string' ? code : 'no_code', err);
}

/**
 * A pool of at most DB_POOL_MAX connections, each over TLS that verifies the server's certificate against the
 * mounted CA and the host dialled (verify-full), with connect, statement and idle timeouts. The server cancels a
 * statement after DB_STATEMENT_TIMEOUT_MS; a server that does not answer (frozen, packets dropped) is given up on
 * CLIENT_TIMEOUT_MARGIN_MS later, and that connection is discarded, never returned to the pool. The migrations
 * Job's pool is the same: pg runs a file of several statements on any connection.
 */
export function openPool(config: DatabaseConfig, password: string, logger: Logger, _options: { migrations?: boolean } = {}): DriverPool {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    // A function: pg never falls back to PGPASSWORD or ~/.pgpass, which it would for an empty string.
    password: () => password,
    ssl: config.tls ? verifiedTls(config.host, config.tls) : false,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    application_name: SERVICE_NAME,
    keepAlive: true,
  });
  // An idle connection the server closed (a restart, a failover): the pool drops it and opens a new one when needed.
  pool.on('error', (err) => logger.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'database connection lost'));
  const failed = (err: unknown) => {
    throw unavailable(err);
  };
  const session = (client: pg.PoolClient): Session => ({
    query: async <Row>(statement: string, params: readonly unknown[] = []) => (await client.query(statement, [...params]).catch(failed)).rows as Row[],
    // Without parameters pg uses the simple query protocol, which runs every statement of the file.
    script: async (text: MigrationScript) => void (await client.query(text).catch(failed)),
  });
  return {
    // pg's pool.query discards a connection whose query failed (a timeout included).
    query: async <Row>(statement: string, params: readonly unknown[] = []) => (await pool.query(statement, [...params]).catch(failed)).rows as Row[],
    async session(work) {
      const client = await pool.connect().catch(failed);
      let broken = false;
      try {
        return await work(session(client));
      } catch (err) {
        broken = err instanceof DatabaseUnavailable;
        throw err;
      } finally {
        // After a timeout or a lost connection it may still be running a statement: discarded, not returned.
        client.release(broken);
      }
    },
    end: () => pool.end(),
  };
}
