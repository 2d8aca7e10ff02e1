import { fileURLToPath } from 'node:url';
import { readPassword, warnIfInsecure } from './backing-config.ts';
import { ConfigError, loadConfig } from './config.ts';
import { type DatabaseConfig, loadMigrationsConfig, MIGRATIONS_PASSWORD_FILE } from './database-config.ts';
import { openPool } from './database-driver.ts';
import { createLogger } from './logger.ts';
import { applyMigrations } from './migrations.ts';

/**
 * Entry point of the migrations Job (`node dist/migrate.js`, a Helm pre-install/pre-upgrade hook): applies
 * migrations/*.sql as DB_MIGRATIONS_USER, whose password is the file database-migrations-password, then exits
 * 0; exits 1 with one log line when a migration fails, so the release stops before new pods start.
 */
const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

async function main(): Promise<number> {
  let secretsDir: string;
  let database: DatabaseConfig;
  let logger = createLogger('info');
  try {
    const config = loadConfig(process.env);
    logger = createLogger(config.logLevel);
    secretsDir = config.secretsDir;
    database = loadMigrationsConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    logger.fatal(err.message);
    return 1;
  }
  warnIfInsecure(logger, { database });
  // Node is PID 1 in the Job's container: a deleted Job's SIGTERM ends the run (an open transaction rolls back).
  process.once('SIGTERM', () => {
    logger.error('SIGTERM: migrations interrupted');
    process.exit(1);
  });
  let pool;
  try {
    pool = openPool(database, readPassword(MIGRATIONS_PASSWORD_FILE, secretsDir), logger, { migrations: true });
    const applied = await applyMigrations(pool, MIGRATIONS_DIR, logger, database.statementTimeoutMs);
    logger.info({ applied, user: database.user, database: database.database }, applied.length > 0 ? 'migrations applied' : 'migrations: nothing to apply');
    return 0;
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code } }, 'migrations failed: exiting with 1');
    return 1;
  } finally {
    await pool?.end().catch(() => {});
  }
}

process.exitCode = await main();
