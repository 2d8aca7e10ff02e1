import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATION_SQL } from './database-driver.ts';
import type { Logger } from './logger.ts';
import type { DriverPool, MigrationScript } from './sql.ts';

/** `0001_create_greetings.sql`: a number, then what it does; applied in name order. */
const MIGRATION_FILE = /^(\d{4,}_[a-z0-9_]+)\.sql$/;

/** The migration files of `dir`, in order; a file that does not follow the naming rule is an error, not skipped. */
export function migrationFiles(dir: string): { version: string; file: string }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const version = MIGRATION_FILE.exec(name)?.[1];
      if (!version) throw new Error(`migration file ${name} is not named <number>_<what>.sql (lowercase, e.g. 0002_add_index.sql)`);
      return { version, file: join(dir, name) };
    });
}

/**
 * Applies every migration of `dir` not yet recorded in schema_migrations, in order, on one connection that holds a
 * lock for the whole run: two runs at once (a parallel deploy) apply each file once. Resolves to the versions
 * applied now. Where the database allows (PostgreSQL), each file and its record commit together or not at all.
 */
export async function applyMigrations(pool: DriverPool, dir: string, logger: Logger): Promise<string[]> {
  const files = migrationFiles(dir);
  return pool.session(async (session) => {
    const [lock] = await session.query<{ locked: unknown }>(MIGRATION_SQL.lock);
    if (lock?.locked === 0) throw new Error('another migration run held the lock for 10 minutes');
    try {
      await session.query(MIGRATION_SQL.table);
      const applied = new Set((await session.query<{ version: string }>(MIGRATION_SQL.applied)).map((row) => row.version));
      const done: string[] = [];
      for (const { version, file } of files) {
        if (applied.has(version)) continue;
        const script = readFileSync(file, 'utf8') as MigrationScript;
        if (MIGRATION_SQL.transactional) await session.query(MIGRATION_SQL.begin);
        try {
          await session.script(script);
          await session.query(MIGRATION_SQL.record, [version]);
          if (MIGRATION_SQL.transactional) await session.query(MIGRATION_SQL.commit);
        } catch (err) {
          if (MIGRATION_SQL.transactional) await session.query(MIGRATION_SQL.rollback).catch(() => {});
          throw new Error(`migration ${version} failed: ${(err as Error).message}`, { cause: err });
        }
        logger.info({ migration: version }, 'migration applied');
        done.push(version);
      }
      return done;
    } finally {
      await session.query(MIGRATION_SQL.unlock).catch(() => {});
    }
  });
}
