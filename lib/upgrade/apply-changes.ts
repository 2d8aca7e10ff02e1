import { existsSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GenerationError, UsageError } from '../errors.js';
import { pathProblem } from './service-paths.js';

/** Where an upgrade stages its work inside the service; removed when the upgrade is complete. */
export const JOURNAL_DIR = '.hardened-service.upgrade';
const JOURNAL = 'journal.json';

export interface FileChange {
  path: string;
  /** New content, or null to delete the file. */
  bytes: Buffer | null;
}

interface Journal {
  changes: { path: string; staged: string | null; backup: string | null }[];
  /** Folders the apply creates for new files, parents first: removed again by a rollback. */
  createdDirs: string[];
}

/** What a run found of an earlier, interrupted upgrade. */
export type Recovery =
  | { kind: 'none' }
  /** The interrupted upgrade had changed files: they are restored. */
  | { kind: 'rolled-back'; files: number }
  /** It had changed nothing (stopped while staging), or had completed (stopped while removing its journal). */
  | { kind: 'cleaned' };

/** `EACCES: permission denied, rename '…' -> '…'` → `EACCES: permission denied`: the file is named by the caller. */
const errorText = (err: unknown) => String((err as Error).message ?? err).split('\n')[0]!.replace(/^(E[A-Z]+: [^,]+), \w+(?: '.*)?$/, '$1');

/** The journal folder is ours: a symlink or a file by that name (e.g. committed to the repository) is refused. */
async function journalDirState(dir: string): Promise<'missing' | 'present'> {
  const info = await lstat(join(dir, JOURNAL_DIR)).catch(() => undefined);
  if (!info) return 'missing';
  if (!info.isDirectory()) throw new UsageError(`${JOURNAL_DIR} in the service is not the upgrade's own folder (a ${info.isSymbolicLink() ? 'symlink' : 'file'}): remove it`);
  return 'present';
}

/** Folders that writing `paths` would create, parents first. */
function foldersToCreate(dir: string, paths: string[]): string[] {
  const created = new Set<string>();
  for (const path of paths) {
    for (let d = dirname(path); d !== '.' && !created.has(d) && !existsSync(join(dir, d)); d = dirname(d)) created.add(d);
  }
  return [...created].sort((a, b) => a.length - b.length);
}

/**
 * Applies a set of file changes so that a failure or an interruption at any moment leaves the service as it
 * was, or completely upgraded:
 * 1. stage every new file, and a backup (a hard link, else a copy) of every file it replaces, under JOURNAL_DIR;
 * 2. write the journal (an atomic rename: the commit point);
 * 3. rename staged files into place and delete removed ones;
 * 4. delete the journal file (the completion point), then JOURNAL_DIR.
 * A write that fails is undone in the same run (GenerationError naming the file, exit 1); a run killed
 * between 2 and 4 is undone by the next run (`recoverInterruptedUpgrade`). Paths are checked by the caller.
 */
export async function applyChangesAtomically(dir: string, changes: FileChange[]): Promise<void> {
  const journalDir = join(dir, JOURNAL_DIR);
  if ((await journalDirState(dir)) === 'present') await rm(journalDir, { recursive: true, force: true });
  const journal: Journal = { changes: [], createdDirs: foldersToCreate(dir, changes.filter((c) => c.bytes).map((c) => c.path)) };
  let current = '';
  try {
    await mkdir(join(journalDir, 'new'), { recursive: true });
    await mkdir(join(journalDir, 'old'));
    for (const [i, change] of changes.entries()) {
      current = change.path;
      const target = join(dir, change.path);
      const staged = change.bytes ? `new/${i}` : null;
      const backup = existsSync(target) ? `old/${i}` : null;
      if (staged) await writeFile(join(journalDir, staged), change.bytes!);
      if (backup) await link(target, join(journalDir, backup)).catch(() => copyFile(target, join(journalDir, backup)));
      journal.changes.push({ path: change.path, staged, backup });
    }
    current = JOURNAL_DIR;
    await writeFile(join(journalDir, 'journal.tmp'), JSON.stringify(journal));
    await rename(join(journalDir, 'journal.tmp'), join(journalDir, JOURNAL));
  } catch (err) {
    await rm(journalDir, { recursive: true, force: true }).catch(() => {});
    throw new GenerationError(`could not stage ${current} (${errorText(err)}): nothing changed`);
  }

  try {
    for (const change of journal.changes) {
      current = change.path;
      const target = join(dir, change.path);
      if (change.staged) {
        await mkdir(dirname(target), { recursive: true });
        await rename(join(journalDir, change.staged), target);
      } else if (existsSync(target)) {
        await unlink(target);
      }
    }
  } catch (err) {
    const failed = `could not write ${current} (${errorText(err)})`;
    try {
      await rollBack(dir, journal);
    } catch (rollbackErr) {
      throw new GenerationError(`${failed}; rolling back failed too (${errorText(rollbackErr)}): the next upgrade run restores the service from ${JOURNAL_DIR}`);
    }
    await rm(journalDir, { recursive: true, force: true }).catch(() => {});
    throw new GenerationError(`${failed}: rolled back, the service is as it was`);
  }
  await unlink(join(journalDir, JOURNAL));
  await rm(journalDir, { recursive: true, force: true });
}

/**
 * Undoes the changes the journal says were applied: a staged file no longer in the journal was renamed into
 * place, a deleted file is gone. Backups are renamed back (no space needed), so rolling back can itself be
 * interrupted and run again. Returns how many files it restored.
 */
async function rollBack(dir: string, journal: Journal): Promise<number> {
  const journalDir = join(dir, JOURNAL_DIR);
  let restored = 0;
  for (const change of [...journal.changes].reverse()) {
    const target = join(dir, change.path);
    const applied = change.staged ? !existsSync(join(journalDir, change.staged)) : change.backup !== null && !existsSync(target);
    if (!applied) continue;
    if (change.backup && existsSync(join(journalDir, change.backup))) {
      await mkdir(dirname(target), { recursive: true });
      await rename(join(journalDir, change.backup), target);
      restored++;
    } else if (!change.backup && existsSync(target)) {
      await unlink(target);
      restored++;
    }
  }
  for (const folder of [...journal.createdDirs].reverse()) await rmdir(join(dir, folder)).catch(() => {});
  return restored;
}

/** The journal is read from the service folder like the manifest: untrusted until checked. */
function parseJournal(text: string): Journal {
  const bad = () => new UsageError(`${JOURNAL_DIR}/${JOURNAL} is not one this generator wrote: remove ${JOURNAL_DIR} (after checking the service with git)`);
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
  } catch {
    throw bad();
  }
  const slot = (v: unknown, kind: string) => v === null || (typeof v === 'string' && new RegExp(`^${kind}/\\d+$`).test(v));
  const ok =
    Array.isArray(journal?.changes) &&
    journal.changes.every((c) => typeof c?.path === 'string' && pathProblem(c.path) === undefined && slot(c.staged, 'new') && slot(c.backup, 'old')) &&
    (journal.createdDirs === undefined || (Array.isArray(journal.createdDirs) && journal.createdDirs.every((d) => typeof d === 'string' && pathProblem(d) === undefined)));
  if (!ok) throw bad();
  journal.createdDirs ??= [];
  return journal;
}

/** Undoes an upgrade that was interrupted after its commit point; drops one interrupted before it, or after it completed. */
export async function recoverInterruptedUpgrade(dir: string): Promise<Recovery> {
  if ((await journalDirState(dir)) === 'missing') return { kind: 'none' };
  const journalDir = join(dir, JOURNAL_DIR);
  const text = await readFile(join(journalDir, JOURNAL), 'utf8').catch(() => undefined);
  const files = text === undefined ? 0 : await rollBack(dir, parseJournal(text));
  await rm(journalDir, { recursive: true, force: true });
  return text === undefined ? { kind: 'cleaned' } : { kind: 'rolled-back', files };
}
