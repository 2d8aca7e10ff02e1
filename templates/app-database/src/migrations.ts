import { createHash } from 'node:crypto';
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

/** What identifies a migration file's content: its SHA-256 (hex). */
function checksumOf(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Applies every migration of `dir` not yet recorded in schema_migrations, in order, on one connection that holds a
 * lock for the whole run: a second run at once (a parallel deploy) waits for it (at most `timeoutMs`, the Job's
 * statement timeout), then applies what is left, so each file is applied once. Every file is recorded with its
 * checksum; a file applied before and changed since stops the run before anything is applied. Resolves to the
 * versions applied now. Where the database allows (PostgreSQL), each file and its record commit together or not at all.
 */
export async function applyMigrations(pool: DriverPool, dir: string, logger: Logger, timeoutMs: number): Promise<string[]> {
  const files = migrationFiles(dir).map((file) => {
    const script = readFileSync(file.file, 'utf8') as MigrationScript;
    return { ...file, script, checksum: checksumOf(script) };
  });
  return pool.session(async (session) => {
    const [lock] = await session.query<{ locked: unknown }>(MIGRATION_SQL.lock, MIGRATION_SQL.lockParams(timeoutMs));
    // GET_LOCK answers 0 when its wait ran out; pg_advisory_lock answers nothing (it waits, or the statement times out).
    if (String(lock?.locked) === '0') throw new Error(`another migration run held the lock for ${Math.round(timeoutMs / 1_000)} s (DB_MIGRATIONS_TIMEOUT_MS)`);
    try {
      await session.query(MIGRATION_SQL.table);
      const [column] = await session.query<{ n: unknown }>(MIGRATION_SQL.hasChecksum);
      if (Number(column?.n) === 0) await session.query(MIGRATION_SQL.addChecksum);
      const applied = new Map((await session.query<{ version: string; checksum: string | null }>(MIGRATION_SQL.applied)).map((row) => [row.version, row.checksum]));
      for (const { version, checksum } of files) {
        if (!applied.has(version)) continue;
        const recorded = applied.get(version);
        if (recorded === null || recorded === undefined) {
          // Applied before checksums were recorded: this content is taken as the applied one.
          await session.query(MIGRATION_SQL.recordChecksum, [checksum, version]);
        } else if (recorded.trim() !== checksum) {
          throw new Error(
            `migration ${version} was changed after it was applied (sha256 ${recorded.trim().slice(0, 12)}… recorded, ${checksum.slice(0, 12)}… now): restore the file and put the change in a new migration`,
          );
        }
      }
      const done: string[] = [];
      for (const { version, script, checksum } of files) {
        if (applied.has(version)) continue;
        if (MIGRATION_SQL.transactional) await session.query(MIGRATION_SQL.begin);
        try {
          await session.script(script);
          await session.query(MIGRATION_SQL.record, [version, checksum]);
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
