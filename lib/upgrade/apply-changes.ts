import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where an upgrade stages its work inside the service; removed when the upgrade is complete. */
export const JOURNAL_DIR = '.hardened-service.upgrade';

export interface FileChange {
  path: string;
  /** New content, or null to delete the file. */
  bytes: Buffer | null;
}

interface Journal {
  changes: { path: string; staged: string | null; backup: string | null }[];
}

/**
 * Applies a set of file changes so that an interruption at any moment leaves the service as it was:
 * 1. stage every new file and a backup of every file it replaces under JOURNAL_DIR;
 * 2. write the journal (an atomic rename: the commit point);
 * 3. rename staged files into place and delete removed ones;
 * 4. remove JOURNAL_DIR.
 * A later run that finds a journal rolls the half-applied change back (`recoverInterruptedUpgrade`).
 */
export async function applyChangesAtomically(dir: string, changes: FileChange[]): Promise<void> {
  await recoverInterruptedUpgrade(dir);
  const journalDir = join(dir, JOURNAL_DIR);
  await rm(journalDir, { recursive: true, force: true });
  const journal: Journal = { changes: [] };
  for (const [i, change] of changes.entries()) {
    const target = join(dir, change.path);
    const staged = change.bytes ? `new/${i}` : null;
    const backup = existsSync(target) ? `old/${i}` : null;
    if (staged) {
      await mkdir(join(journalDir, 'new'), { recursive: true });
      await writeFile(join(journalDir, staged), change.bytes!);
    }
    if (backup) {
      await mkdir(join(journalDir, 'old'), { recursive: true });
      await copyFile(join(dir, change.path), join(journalDir, backup));
    }
    journal.changes.push({ path: change.path, staged, backup });
  }
  await writeFile(join(journalDir, 'journal.tmp'), JSON.stringify(journal));
  await rename(join(journalDir, 'journal.tmp'), join(journalDir, 'journal.json'));

  for (const change of journal.changes) {
    const target = join(dir, change.path);
    if (change.staged) {
      await mkdir(dirname(target), { recursive: true });
      await rename(join(journalDir, change.staged), target);
    } else if (existsSync(target)) {
      await unlink(target);
    }
  }
  await rm(journalDir, { recursive: true, force: true });
}

/** Undoes an upgrade that was interrupted after its commit point; drops one interrupted before it. */
export async function recoverInterruptedUpgrade(dir: string): Promise<boolean> {
  const journalDir = join(dir, JOURNAL_DIR);
  if (!existsSync(journalDir)) return false;
  const text = await readFile(join(journalDir, 'journal.json'), 'utf8').catch(() => undefined);
  if (text) {
    const journal = JSON.parse(text) as Journal;
    for (const change of journal.changes) {
      const target = join(dir, change.path);
      if (change.backup) {
        await mkdir(dirname(target), { recursive: true });
        await copyFile(join(journalDir, change.backup), target);
      } else if (existsSync(target)) {
        await unlink(target);
      }
    }
  }
  await rm(journalDir, { recursive: true, force: true });
  return true;
}
