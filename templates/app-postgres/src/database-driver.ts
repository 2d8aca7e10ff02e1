import pg from 'pg';
import type { DatabaseConfig } from './database-config.ts';
import type { Logger } from './logger.ts';
import { SERVICE_NAME } from './service-info.ts';
import { type DriverPool, type MigrationScript, type Session, sql } from './sql.ts';

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
  // Held for the whole run: a second Job (a parallel deploy) waits instead of applying the same files.
  lock: sql`SELECT pg_advisory_lock(hashtext('schema_migrations')) AS locked`,
  unlock: sql`SELECT pg_advisory_unlock(hashtext('schema_migrations'))`,
  table: sql`CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(255) PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
  applied: sql`SELECT version FROM schema_migrations`,
  record: sql`INSERT INTO schema_migrations (version) VALUES ($1)`,
  begin: sql`BEGIN`,
  commit: sql`COMMIT`,
  rollback: sql`ROLLBACK`,
  transactional: true,
};

/**
 * A pool of at most DB_POOL_MAX connections, each over TLS that verifies the server's certificate against the
 * mounted CA and its name (verify-full), with connect, statement and idle timeouts. The migrations Job's pool is
 * the same: pg runs a file of several statements on any connection.
 */
export function openPool(config: DatabaseConfig, password: string, logger: Logger, _options: { migrations?: boolean } = {}): DriverPool {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password,
    ssl: config.tls ? { ca: config.tls.ca, rejectUnauthorized: true, ...(config.tls.servername ? { servername: config.tls.servername } : {}) } : false,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    // The server cancels a statement after this; the client gives up a little later if the server does not answer.
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.statementTimeoutMs + 1_000,
    application_name: SERVICE_NAME,
    keepAlive: true,
  });
  // An idle connection the server closed (a restart, a failover): the pool drops it and opens a new one when needed.
  pool.on('error', (err) => logger.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'database connection lost'));
  const session = (client: pg.PoolClient): Session => ({
    query: async <Row>(statement: string, params: readonly unknown[] = []) => (await client.query(statement, [...params])).rows as Row[],
    // Without parameters pg uses the simple query protocol, which runs every statement of the file.
    script: async (text: MigrationScript) => void (await client.query(text)),
  });
  return {
    query: async <Row>(statement: string, params: readonly unknown[] = []) => (await pool.query(statement, [...params])).rows as Row[],
    async session(work) {
      const client = await pool.connect();
      try {
        return await work(session(client));
      } finally {
        client.release();
      }
    },
    end: () => pool.end(),
  };
}
