import { connect, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { CLIENT_TIMEOUT_MARGIN_MS, type DatabaseConfig } from './database-config.ts';
import type { Logger } from './logger.ts';
import { DatabaseUnavailable, type DriverPool, type MigrationScript, type Session, type Sql, sql, within } from './sql.ts';

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
  // Named per database (GET_LOCK names are server-wide); held for the whole run. A second run waits for it, at
  // most the seconds given (DB_MIGRATIONS_TIMEOUT_MS), then gets 0.
  lock: sql`SELECT GET_LOCK(CONCAT(DATABASE(), '.schema_migrations'), ?) AS locked`,
  lockParams: (timeoutMs: number): unknown[] => [Math.ceil(timeoutMs / 1_000)],
  unlock: sql`SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.schema_migrations'))`,
  table: sql`CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(255) PRIMARY KEY, checksum char(64), applied_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
  // A table from before checksums were recorded gets the column (MySQL has no ADD COLUMN IF NOT EXISTS).
  hasChecksum: sql`SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'schema_migrations' AND column_name = 'checksum'`,
  addChecksum: sql`ALTER TABLE schema_migrations ADD COLUMN checksum char(64)`,
  applied: sql`SELECT version, checksum FROM schema_migrations`,
  record: sql`INSERT INTO schema_migrations (version, checksum) VALUES (?, ?)`,
  recordChecksum: sql`UPDATE schema_migrations SET checksum = ? WHERE version = ?`,
  begin: sql`START TRANSACTION`,
  commit: sql`COMMIT`,
  rollback: sql`ROLLBACK`,
  transactional: false,
};

/** Statements the pool keeps prepared per connection (mysql2 keeps 16,000 by default). */
const MAX_PREPARED_STATEMENTS = 100;

/** Server error numbers that mean "not now" rather than "this statement is wrong" (routes answer 503). */
const UNAVAILABLE: Record<number, DatabaseUnavailable['kind']> = {
  1205: 'timeout', // ER_LOCK_WAIT_TIMEOUT
  1213: 'timeout', // ER_LOCK_DEADLOCK
  1317: 'timeout', // ER_QUERY_INTERRUPTED
  1969: 'timeout', // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
  3024: 'timeout', // MySQL ER_QUERY_TIMEOUT (max_execution_time)
  1040: 'overloaded', // ER_CON_COUNT_ERROR
  1203: 'overloaded', // ER_TOO_MANY_USER_CONNECTIONS
  1053: 'connection', // ER_SERVER_SHUTDOWN
  1044: 'authentication', // ER_DBACCESS_DENIED_ERROR
  1045: 'authentication', // ER_ACCESS_DENIED_ERROR
};

/** A driver error as DatabaseUnavailable when it is one: a network error, a lost connection, or one of the numbers above. */
export function unavailable(err: unknown): unknown {
  if (err instanceof DatabaseUnavailable) return err;
  const { code, errno, sqlState } = err as { code?: unknown; errno?: unknown; sqlState?: unknown };
  if (typeof sqlState === 'string') {
    // The server's answer: its error number names it (mysql2 has no code for MariaDB's own numbers).
    const kind = UNAVAILABLE[Number(errno)];
    return kind ? new DatabaseUnavailable(kind, typeof code === 'string' ? code : `errno_${errno}`, err) : err;
  }
  // Not a server's answer: the network (ECONNREFUSED…), PROTOCOL_CONNECTION_LOST, a TLS failure.
  return new DatabaseUnavailable(/TIMEOUT/.test(String(code)) ? 'timeout' : 'connection', typeof code === 'string' ? code : 'no_code', err);
}

/**
 * Each new connection asks the server to end its statements after DB_STATEMENT_TIMEOUT_MS, lock waits included:
 * MariaDB's max_statement_time covers every statement; MySQL has no such variable (error 1193) and gets
 * max_execution_time, which covers SELECT only (the client's own deadline bounds the rest).
 */
function serverTimeouts(connection: CoreConnection, timeoutMs: number, logger: Logger): void {
  const lockWaitS = Math.max(1, Math.ceil(timeoutMs / 1_000));
  const warn = (err: NodeJS.ErrnoException) => logger.warn({ err: { message: err.message, code: err.code } }, 'database statement timeout not set on the server: the client enforces it alone');
  connection.query(`SET SESSION max_statement_time = ${timeoutMs / 1_000}, lock_wait_timeout = ${lockWaitS}, innodb_lock_wait_timeout = ${lockWaitS}`, (err: (NodeJS.ErrnoException & { errno?: number }) | null) => {
    if (err?.errno !== 1193) return err ? warn(err) : undefined;
    connection.query(`SET SESSION max_execution_time = ${timeoutMs}, lock_wait_timeout = ${lockWaitS}, innodb_lock_wait_timeout = ${lockWaitS}`, (again: NodeJS.ErrnoException | null) => again && warn(again));
  });
}

type CoreConnection = { query(sql: string, callback: (err: (NodeJS.ErrnoException & { errno?: number }) | null) => void): unknown; on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown };

/**
 * A pool of at most DB_POOL_MAX connections, each over TLS that verifies the server's certificate against the
 * mounted CA and the host dialled, with connect, statement and idle timeouts and a bounded wait for a free
 * connection. The server ends a statement after DB_STATEMENT_TIMEOUT_MS; a server that does not answer (a lock
 * the timeout does not cover, frozen, packets dropped) is given up on CLIENT_TIMEOUT_MARGIN_MS later, and that
 * connection is destroyed, never returned to the pool with its statement still running.
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
    // mysql2 checks an IP host's certificate against "localhost" (it passes no host name to TLS): the socket
    // carries the host dialled, which Node's TLS checks the certificate against (IP SANs for an IP address).
    stream: () => {
      const socket = connect({ host: config.host, port: config.port, noDelay: true, keepAlive: true });
      (socket as Socket & { _host?: string })._host = config.host;
      return socket;
    },
    connectionLimit: config.poolMax,
    maxIdle: config.poolMax,
    idleTimeout: config.idleTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    // Queries waiting for a connection: bounded, and each waits at most the connect timeout (acquire below).
    queueLimit: config.poolMax * 100,
    maxPreparedStatements: MAX_PREPARED_STATEMENTS,
    multipleStatements: migrations,
  });
  pool.on('connection', (connection) => {
    const core = connection as unknown as CoreConnection;
    // An idle connection the server closed (a restart, a failover): mysql2 drops it; say so.
    core.on('error', (err) => logger.warn({ err: { message: err.message, code: err.code } }, 'database connection lost'));
    serverTimeouts(core, config.statementTimeoutMs, logger);
  });

  const acquire = () => {
    const pending = pool.getConnection();
    // Given up on: when the connection does come, it goes back to the pool.
    return within(config.connectTimeoutMs, 'pool_timeout', pending, () => void pending.then((connection) => connection.release(), () => {})).catch((err: unknown) => {
      throw unavailable(err);
    });
  };
  const deadlineMs = config.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS;
  /** One statement on `connection`, or its destruction at the deadline; `destroyed` then tells the caller not to release it. */
  const run = async <T>(connection: mysql.PoolConnection, state: { destroyed: boolean }, work: Promise<T>) => {
    try {
      return await within(deadlineMs, 'client_timeout', work, () => {
        state.destroyed = true;
        connection.destroy();
      });
    } catch (err) {
      throw unavailable(err);
    }
  };
  const rows = <Row>([result]: [unknown, unknown]) => (Array.isArray(result) ? result : []) as Row[];
  const session = (connection: mysql.PoolConnection, state: { destroyed: boolean }): Session => ({
    query: async <Row>(statement: string, params: readonly unknown[] = []) => rows<Row>(await run(connection, state, connection.execute(statement, [...params] as mysql.ExecuteValues))),
    script: async (text: MigrationScript) => void (await run(connection, state, connection.query(text))),
  });
  const using = async <T>(work: (session: Session) => Promise<T>): Promise<T> => {
    const connection = await acquire();
    const state = { destroyed: false };
    let broken = false;
    try {
      return await work(session(connection, state));
    } catch (err) {
      broken = err instanceof DatabaseUnavailable;
      throw err;
    } finally {
      // After a timeout or a lost connection it may still be running a statement: destroyed, not returned.
      if (!state.destroyed) {
        if (broken) connection.destroy();
        else connection.release();
      }
    }
  };
  return {
    query: <Row>(statement: Sql, params: readonly unknown[] = []) => using((one) => one.query<Row>(statement, params)),
    session: using,
    end: () => pool.end(),
  };
}
