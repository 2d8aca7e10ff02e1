import mysql from 'mysql2/promise';
import type { DatabaseConfig } from './database-config.ts';
import type { Logger } from './logger.ts';
import { type DriverPool, type MigrationScript, type Session, sql } from './sql.ts';

/** MySQL (and MariaDB, which speaks its protocol) through `mysql2`, the ecosystem's maintained client. */
export const DATABASE_PRODUCT = 'MySQL';
export const DATABASE_PORT = 3306;

/** The sample routes' statements: `?` is a parameter of a server-side prepared statement. */
export const GREETING_SQL = {
  insert: sql`INSERT INTO greetings (name) VALUES (?)`,
  count: sql`SELECT COUNT(*) AS count FROM greetings WHERE name = ?`,
};

/**
 * The migration runner's statements (src/migrations.ts). MySQL commits DDL implicitly: a migration that fails
 * halfway cannot be rolled back, and must be fixed forward.
 */
export const MIGRATION_SQL = {
  // Named per database (GET_LOCK names are server-wide); held for the whole run, waiting up to 10 minutes.
  lock: sql`SELECT GET_LOCK(CONCAT(DATABASE(), '.schema_migrations'), 600) AS locked`,
  unlock: sql`SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.schema_migrations'))`,
  table: sql`CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(255) PRIMARY KEY, applied_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
  applied: sql`SELECT version FROM schema_migrations`,
  record: sql`INSERT INTO schema_migrations (version) VALUES (?)`,
  begin: sql`START TRANSACTION`,
  commit: sql`COMMIT`,
  rollback: sql`ROLLBACK`,
  transactional: false,
};

/** Statements the pool keeps prepared per connection (mysql2 keeps 16,000 by default). */
const MAX_PREPARED_STATEMENTS = 100;

/**
 * A pool of at most DB_POOL_MAX connections, each over TLS that verifies the server's certificate against the
 * mounted CA and its name, with connect, statement and idle timeouts and a bounded wait for a free connection.
 * `migrations`: the migrations Job's pool, which also runs files of several statements (never the service's).
 */
export function openPool(config: DatabaseConfig, password: string, logger: Logger, { migrations = false } = {}): DriverPool {
  const pool = mysql.createPool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password,
    ssl: config.tls ? { ca: config.tls.ca, rejectUnauthorized: true, verifyIdentity: true } : undefined,
    connectionLimit: config.poolMax,
    maxIdle: config.poolMax,
    idleTimeout: config.idleTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    // Queries waiting for a connection: bounded, and each waits at most the connect timeout (acquire below).
    queueLimit: config.poolMax * 100,
    maxPreparedStatements: MAX_PREPARED_STATEMENTS,
    enableKeepAlive: true,
    multipleStatements: migrations,
  });
  pool.on('connection', (connection) => {
    // An idle connection the server closed (a restart, a failover): mysql2 drops it; say so.
    connection.on('error', (err: NodeJS.ErrnoException) => logger.warn({ err: { message: err.message, code: err.code } }, 'database connection lost'));
  });

  const acquire = async () => {
    const pending = pool.getConnection();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no database connection within ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs);
        }),
      ]);
    } catch (err) {
      // Given up on: when the connection does come, it goes back to the pool.
      pending.then((connection) => connection.release(), () => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
  // The client-side statement timeout: mysql2 closes the connection of a statement that runs longer.
  const run = async <Row>(connection: mysql.PoolConnection, statement: string, params: readonly unknown[]) => {
    const [rows] = await connection.execute({ sql: statement, timeout: config.statementTimeoutMs }, [...params] as mysql.ExecuteValues);
    return (Array.isArray(rows) ? rows : []) as Row[];
  };
  const session = (connection: mysql.PoolConnection): Session => ({
    query: <Row>(statement: string, params: readonly unknown[] = []) => run<Row>(connection, statement, params),
    script: async (text: MigrationScript) => void (await connection.query(text)),
  });
  return {
    async query<Row>(statement: string, params: readonly unknown[] = []) {
      const connection = await acquire();
      try {
        return await run<Row>(connection, statement, params);
      } finally {
        connection.release();
      }
    },
    async session(work) {
      const connection = await acquire();
      try {
        return await work(session(connection));
      } finally {
        connection.release();
      }
    },
    end: () => pool.end(),
  };
}
