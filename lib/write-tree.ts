import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GenerationError } from './errors.js';
import { isProcessAlive } from './process-alive.js';
import type { FileTree } from '../core/file-tree.js';

const STAGING_MARK = '.create-hardened-service-';

/** Entries that do not make a directory "non-empty": a fresh `git clone` of an empty repository. */
const IGNORABLE = new Set(['.git']);

export async function directoryState(dir: string): Promise<'missing' | 'empty' | 'non-empty' | 'not-a-directory'> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return 'missing';
  if (!info.isDirectory()) return 'not-a-directory';
  const entries = await readdir(dir);
  return entries.every((e) => IGNORABLE.has(e)) ? 'empty' : 'non-empty';
}


/** Removes staging folders that a killed run left next to the target (their pid is no longer alive). */
async function removeStaleStaging(parent: string, name: string): Promise<void> {
  const prefix = `${STAGING_MARK}${name}-`;
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/** Synchronously: a few dozen small files cost less than the thread-pool round trips of async writes. */
function writeTreeTo(tree: FileTree, root: string): void {
  const dirs = new Set([...tree.keys()].map((p) => dirname(p)).filter((d) => d !== '.'));
  for (const dir of [...dirs].sort()) mkdirSync(join(root, dir), { recursive: true });
  for (const [path, bytes] of tree) writeFileSync(join(root, path), bytes, { flag: 'wx' });
}

/** Moves every entry of `from` into `to`, replacing same-named files; returns the files it replaced. */
async function moveInto(from: string, to: string, prefix = ''): Promise<string[]> {
  const replaced: string[] = [];
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dest = join(to, entry.name);
    const rel = prefix + entry.name;
    const destInfo = await stat(dest).catch(() => undefined);
    if (entry.isDirectory() && destInfo?.isDirectory()) {
      replaced.push(...(await moveInto(src, dest, `${rel}/`)));
      continue;
    }
    if (destInfo?.isDirectory()) throw new GenerationError(`${dest} is a directory where the service has a file: move it away and retry`);
    if (destInfo) replaced.push(rel);
    await rename(src, dest);
  }
  return replaced;
}

/**
 * Writes a new service so that no one ever sees half of it: everything goes to a staging folder next to
 * the target (same filesystem), then one rename makes it appear. When the target directory already exists
 * (empty, only `.git`, or any content with --force), each entry is renamed into place and same-named files
 * are replaced; files of the user's that the service does not produce are never touched.
 */
export async function writeTreeAtomically(tree: FileTree, targetDir: string): Promise<{ replaced: string[] }> {
  const parent = dirname(targetDir);
  const name = basename(targetDir);
  await mkdir(parent, { recursive: true });
  await removeStaleStaging(parent, name);
  const staging = join(parent, `${STAGING_MARK}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const cleanup = () => rm(staging, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await mkdir(staging);
    writeTreeTo(tree, staging);
    if (!existsSync(targetDir)) {
      await rename(staging, targetDir);
      return { replaced: [] };
    }
    // An existing directory keeps its inode (a shell may be in it: `create-hardened-service .`), so its
    // entries are moved in one by one; each move is atomic, the whole is not.

    const replaced = await moveInto(staging, targetDir);
    await cleanup();
    return { replaced };
  } catch (err) {
    await cleanup();
    if (err instanceof GenerationError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new GenerationError(`could not write ${targetDir}: ${e.code ?? ''} ${e.message.split('\n')[0]}`.replace(/\s+/g, ' '));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
