import { type BackingEndpoint, EnvReader } from './backing-config.ts';
import { DATABASE_PORT, DATABASE_PRODUCT } from './database-driver.ts';

/**
 * The database connection, from the environment (the chart sets it from its `database` values). The password is
 * never an environment variable: it is the file `database-password` in SECRETS_DIR (the migrations Job's is
 * `database-migrations-password`).
 */
export interface DatabaseConfig extends BackingEndpoint {
  /** DB_NAME */
  database: string;
  /** DB_USER: the service's own user, which may only read and write rows (see the README's grants). */
  user: string;
  /** DB_POOL_MAX: connections the pool opens at most; further queries wait for one (at most the connect timeout). */
  poolMax: number;
  /** DB_CONNECT_TIMEOUT_MS: to open a connection (TLS included), or to wait for a free one. */
  connectTimeoutMs: number;
  /**
   * DB_STATEMENT_TIMEOUT_MS: a statement running longer is cancelled by the server; if the server does not answer,
   * the client gives up CLIENT_TIMEOUT_MARGIN_MS later and discards the connection (the migrations Job:
   * DB_MIGRATIONS_TIMEOUT_MS, which also bounds its wait for another run's lock).
   */
  statementTimeoutMs: number;
  /** DB_IDLE_TIMEOUT_MS: an unused connection is closed after this. */
  idleTimeoutMs: number;
  /** DB_READINESS_CACHE_MS: /readyz asks the database at most once per this long (probes do not hammer it). */
  readinessCacheMs: number;
  /** SECRETS_RELOAD_MS: how often the password file is checked for a new value. */
  secretsReloadMs: number;
}

export const DATABASE_DEFAULTS = {
  caFile: '/run/database-tls/ca.crt',
  poolMax: 10,
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  readinessCacheMs: 2_000,
  secretsReloadMs: 10_000,
} as const;

/** How long after the statement timeout the client stops waiting for a server that does not answer. */
export const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

/** The migrations Job's statement timeout, and its wait for another run's lock (the chart: the Job's deadline). */
export const MIGRATIONS_TIMEOUT_MS = 600_000;

export const DATABASE_PASSWORD_FILE = 'database-password';
export const MIGRATIONS_PASSWORD_FILE = 'database-migrations-password';

export function loadDatabaseConfig(env: Record<string, string | undefined> = process.env): DatabaseConfig {
  const read = new EnvReader(env);
  const endpoint = read.endpoint('DB', DATABASE_PRODUCT, DATABASE_PORT, DATABASE_DEFAULTS.caFile);
  const config: DatabaseConfig = {
    ...endpoint,
    database: read.required('DB_NAME', 'the database to use'),
    user: read.required('DB_USER', "the service's database user"),
    poolMax: read.integer('DB_POOL_MAX', DATABASE_DEFAULTS.poolMax, 1, 1_000),
    connectTimeoutMs: read.integer('DB_CONNECT_TIMEOUT_MS', DATABASE_DEFAULTS.connectTimeoutMs, 100, 600_000),
    statementTimeoutMs: read.integer('DB_STATEMENT_TIMEOUT_MS', DATABASE_DEFAULTS.statementTimeoutMs, 100, 3_600_000),
    idleTimeoutMs: read.integer('DB_IDLE_TIMEOUT_MS', DATABASE_DEFAULTS.idleTimeoutMs, 1_000, 3_600_000),
    readinessCacheMs: read.integer('DB_READINESS_CACHE_MS', DATABASE_DEFAULTS.readinessCacheMs, 0, 600_000),
    secretsReloadMs: read.integer('SECRETS_RELOAD_MS', DATABASE_DEFAULTS.secretsReloadMs, 100, 3_600_000),
  };
  read.done();
  return config;
}

/** The migrations Job connects as DB_MIGRATIONS_USER, the owner of the tables (DDL), with its own password file. */
export function loadMigrationsConfig(env: Record<string, string | undefined> = process.env): DatabaseConfig {
  const config = loadDatabaseConfig(env);
  const read = new EnvReader(env);
  const user = read.required('DB_MIGRATIONS_USER', 'the database user that owns the tables and applies migrations');
  // Not the pods' statement timeout: a migration may rewrite a large table.
  const statementTimeoutMs = read.integer('DB_MIGRATIONS_TIMEOUT_MS', MIGRATIONS_TIMEOUT_MS, 1_000, 86_400_000);
  read.done();
  return { ...config, user, statementTimeoutMs };
}
