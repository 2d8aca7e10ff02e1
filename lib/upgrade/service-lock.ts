import { randomBytes } from 'node:crypto';
import { link, lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenerationError, UsageError } from '../errors.js';
import { isProcessAlive } from '../process-alive.js';

/** Held inside the service while an upgrade writes it (a scheduled job and a person may run at once). */
export const LOCK_FILE = '.hardened-service.lock';

interface Holder {
  pid: number;
  host: string;
  started: string;
}


async function readHolder(path: string): Promise<{ holder?: Holder; ino: number } | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile()) throw new UsageError(`${LOCK_FILE} in the service is not a lock this generator wrote (a ${info.isSymbolicLink() ? 'symlink' : 'folder'}): remove it`);
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Holder;
    return { ino: info.ino, ...(Number.isInteger(holder.pid) && typeof holder.host === 'string' ? { holder } : {}) };
  } catch {
    return { ino: info.ino };
  }
}

/** The temporary files a run makes next to the lock: `<lock>.<pid>-<hex>` while taking it, `<lock>.stale-<pid>-<hex>` while breaking one. */
const TEMPORARY = /^\.hardened-service\.lock\.(?:stale-)?(\d+)-[0-9a-f]+$/;

/**
 * Removes the temporary lock files of runs that died on this host (a kill between writing one and removing it):
 * they are the run's own, not the team's, and left alone they make the tree look changed to the next run.
 */
async function removeDeadTemporaries(dir: string, host: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = TEMPORARY.exec(name)?.[1];
    if (pid === undefined || isProcessAlive(Number(pid))) continue;
    const found = await readHolder(join(dir, name)).catch(() => undefined);
    if (found?.holder?.host === host) await rm(join(dir, name), { force: true });
  }
}

/** Removes a lock whose holder died on this host, unless another run replaced it meanwhile. */
async function breakStaleLock(path: string, ino: number): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (!(await rename(path, aside).then(() => true, () => false))) return;
  if ((await lstat(aside)).ino !== ino) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

/**
 * Takes the service's lock: a file created atomically with its holder's pid, host and start time (written to
 * a temporary file, then hard-linked into place, so a lock is never seen half written). A lock left by a dead
 * process on this host is broken; a live one is waited for briefly, then the run is refused (exit 2) naming
 * the holder. Returns the release function.
 */
export async function lockService(dir: string, display: string, waitMs = 3000): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const mine = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const deadline = Date.now() + waitMs;
  await removeDeadTemporaries(dir, me.host);
  await writeFile(mine, `${JSON.stringify(me)}\n`, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    throw new GenerationError(`cannot take the upgrade lock in ${display} (${err.code ?? err.message}): is the folder writable?`);
  });
  try {
    for (;;) {
      if (await link(mine, path).then(() => true, (err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? false : Promise.reject(err)))) {
        return () => rm(path, { force: true });
      }
      const found = await readHolder(path);
      if (!found) continue;
      const { holder, ino } = found;
      if (holder && holder.host === me.host && !isProcessAlive(holder.pid)) {
        await breakStaleLock(path, ino);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.started}` : 'another run (its lock file is unreadable)';
        throw new UsageError(`${display} is being upgraded by ${who}: wait for it to finish, or remove ${join(display, LOCK_FILE)} if that run is gone`);
      }
      await sleep(100);
    }
  } finally {
    await rm(mine, { force: true });
  }
}
