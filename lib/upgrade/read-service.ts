import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { GenerationError, UsageError } from '../errors.js';
import type { FileTree } from '../../core/file-tree.js';
import { pathProblem } from './service-paths.js';
import { displayPath, quotedPath } from '../safe-read.js';

/** The team's side of an upgrade, read so that no path leads outside the service and no symlink is replaced. */
export interface ServiceFiles {
  /** The team's file for each generated path that holds one (through a symlink: its target's content). */
  ours: FileTree;
  /** Generated paths whose file lives elsewhere in the service (a symlink, or a symlinked folder on the way): path → real path. */
  locations: Map<string, string>;
  /** Generated paths that hold something an upgrade must not merge into or replace: path → what it is. */
  special: Map<string, string>;
  /** Generated paths the team renamed (recorded in the manifest, or found by detectRenames): path → path in the service. */
  renamed: Map<string, string>;
}

const posix = (p: string) => p.split(sep).join('/');

function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root + sep);
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new GenerationError(`${displayPath(path)}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): nothing written`);
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

function realFolder(folder: string, realFolders: Map<string, string>): string {
  let real = realFolders.get(folder);
  if (real === undefined) {
    real = realpathSync.native(folder);
    realFolders.set(folder, real);
  }
  return real;
}

type Located = { kind: 'file' | 'missing'; real: string } | { kind: 'special'; what: string };

/**
 * Where `path` really is: its nearest existing ancestor (or itself) resolved through every symlink must stay
 * inside the service, else the upgrade is refused. A symlink to a file inside the service is followed (the
 * merge goes into the target); one to nothing or to a folder, or a folder where a file belongs, is special.
 * An entry that is not a symlink is where its folder really is: folders are resolved once per service
 * (`realFolders`), not once per file.
 */
function locate(dir: string, root: string, path: string, realFolders: Map<string, string>): Located {
  const problem = pathProblem(path);
  if (problem) throw new UsageError(`the path ${quotedPath(path)} ${problem}: refused, nothing written`);
  let existing = join(dir, path);
  const rest: string[] = [];
  let info = lstatOrUndefined(existing);
  while (!info) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
    info = lstatOrUndefined(existing);
  }
  const link = info.isSymbolicLink();
  const real = link ? realpathOrUndefined(existing) : join(realFolder(dirname(existing), realFolders), basename(existing));
  if (real === undefined) return { kind: 'special', what: `a symlink to nothing${rest.length ? ' on the way' : ''}` };
  if (!isInside(root, real)) {
    throw new UsageError(`${path} leads outside the service (through a symlink, to ${real}): refused, nothing written`);
  }
  if (rest.length) {
    if (!(link ? statSync(real) : info).isDirectory()) return { kind: 'special', what: `a file where the generator has a folder (${posix(relative(root, real))})` };
    return { kind: 'missing', real: join(real, ...rest) };
  }
  const target = link ? statSync(real) : info;
  if (target.isDirectory()) return { kind: 'special', what: info.isSymbolicLink() ? 'a symlink to a folder' : 'a folder where the generator writes a file' };
  if (!target.isFile()) return { kind: 'special', what: 'not a regular file' };
  return { kind: 'file', real };
}

/** The team's file, or one line naming it when it cannot be read (permissions, I/O): never an unexpected error. */
function readTeamFile(real: string, path: string): Buffer {
  try {
    return readFileSync(real);
  } catch (err) {
    throw new GenerationError(`${displayPath(path)}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): nothing written`);
  }
}

/**
 * Reads the team's files for the given generated paths (a path the team renamed, as the manifest records, at
 * its new name). Throws a UsageError (exit 2, before anything is written) for any path that is not a plain
 * relative path or that resolves outside the service. Synchronous calls: a service's few dozen files cost
 * less than the promise and thread-pool round trips of async ones, which dominated a fleet upgrade.
 */
export function readServiceFiles(dir: string, paths: Iterable<string>, renamed: Readonly<Record<string, string>> = {}): ServiceFiles {
  const root = realpathSync.native(dir);
  const realFolders = new Map<string, string>();
  const files: ServiceFiles = { ours: new Map(), locations: new Map(), special: new Map(), renamed: new Map() };
  const all = new Set(paths);
  const claimed = new Map<string, string>();
  for (const path of [...all].sort()) {
    let located = locate(dir, root, path, realFolders);
    const to = renamed[path];
    if (located.kind === 'missing' && to !== undefined && !all.has(to)) {
      const there = locate(dir, root, to, realFolders);
      if (there.kind === 'file') {
        located = there;
        files.renamed.set(path, to);
      }
    }
    if (located.kind === 'special') {
      files.special.set(path, located.what);
      continue;
    }
    const real = posix(relative(root, located.real));
    if (real !== path) {
      // Two generated paths in one file would be merged twice: leave the link alone, and say so.
      if (all.has(real) || claimed.has(real)) {
        files.special.set(path, all.has(real) ? `a symlink to ${real}, which the generator also writes` : `a symlink to ${real}, as ${claimed.get(real)} is`);
        continue;
      }
      claimed.set(real, path);
      files.locations.set(path, real);
    }
    if (located.kind === 'file') files.ours.set(path, readTeamFile(located.real, path));
  }
  return files;
}
