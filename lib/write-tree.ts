import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GenerationError } from './errors.js';
import { isProcessAlive } from './process-alive.js';
import type { FileTree } from '../core/file-tree.js';

const STAGING_MARK = '.create-hardened-service-';

/** Entries that do not make a directory "non-empty": a fresh `git clone` of an empty repository. */
const IGNORABLE = new Set(['.git']);

export function directoryState(dir: string): 'missing' | 'empty' | 'non-empty' | 'not-a-directory' {
  const info = statSync(dir, { throwIfNoEntry: false });
  if (!info) return 'missing';
  if (!info.isDirectory()) return 'not-a-directory';
  return readdirSync(dir).every((e) => IGNORABLE.has(e)) ? 'empty' : 'non-empty';
}

/** Removes staging folders that a killed run left next to the target (their pid is no longer alive). */
function removeStaleStaging(parent: string, name: string): void {
  const prefix = `${STAGING_MARK}${name}-`;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function writeTreeTo(tree: FileTree, root: string): void {
  const dirs = new Set([...tree.keys()].map((p) => dirname(p)).filter((d) => d !== '.'));
  for (const dir of [...dirs].sort()) mkdirSync(join(root, dir), { recursive: true });
  for (const [path, bytes] of tree) writeFileSync(join(root, path), bytes, { flag: 'wx' });
}

/** Moves every entry of `from` into `to`, replacing same-named files; returns the files it replaced. */
function moveInto(from: string, to: string, prefix = ''): string[] {
  const replaced: string[] = [];
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dest = join(to, entry.name);
    const rel = prefix + entry.name;
    const destInfo = statSync(dest, { throwIfNoEntry: false });
    if (entry.isDirectory() && destInfo?.isDirectory()) {
      replaced.push(...moveInto(src, dest, `${rel}/`));
      continue;
    }
    if (destInfo?.isDirectory()) throw new GenerationError(`${dest} is a directory where the service has a file: move it away and retry`);
    if (destInfo) replaced.push(rel);
    renameSync(src, dest);
  }
  return replaced;
}

/**
 * Writes a new service so that no one ever sees half of it: everything goes to a staging folder next to
 * the target (same filesystem), then one rename makes it appear. When the target directory already exists
 * (empty, only `.git`, or any content with --force), each entry is renamed into place and same-named files
 * are replaced; files of the user's that the service does not produce are never touched.
 *
 * Synchronous, like the rest of a generation: a few dozen small files cost less than the thread-pool round
 * trips of async calls (a generation never starts libuv's thread pool). A run killed part-way (a signal ends
 * it at once: no handler can run inside synchronous code) leaves only its hidden staging folder, which the
 * next run for the same target removes.
 */
export function writeTreeAtomically(tree: FileTree, targetDir: string): { replaced: string[] } {
  const parent = dirname(targetDir);
  const name = basename(targetDir);
  const staging = join(parent, `${STAGING_MARK}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const cleanup = () => rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(parent, { recursive: true });
    removeStaleStaging(parent, name);
    mkdirSync(staging);
    writeTreeTo(tree, staging);
    if (!existsSync(targetDir)) {
      renameSync(staging, targetDir);
      return { replaced: [] };
    }
    // An existing directory keeps its inode (a shell may be in it: `create-hardened-service .`), so its
    // entries are moved in one by one; each move is atomic, the whole is not.
    const replaced = moveInto(staging, targetDir);
    cleanup();
    return { replaced };
  } catch (err) {
    cleanup();
    if (err instanceof GenerationError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new GenerationError(`could not write ${targetDir}: ${e.code ?? ''} ${e.message.split('\n')[0]}`.replace(/\s+/g, ' '));
  }
}
