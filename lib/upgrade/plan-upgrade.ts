import type { FileTree } from '../file-tree.js';
import { mergeThreeWay } from './merge-file.js';

/** What an upgrade does with one path, and why; `bytes` is what the path will hold afterwards. */
export type FileDecision =
  | { path: string; action: 'unchanged' }
  | { path: string; action: 'update'; bytes: Buffer }
  | { path: string; action: 'keep-yours' }
  | { path: string; action: 'keep-yours-lockfile' }
  | { path: string; action: 'merged'; bytes: Buffer }
  | { path: string; action: 'conflict'; bytes: Buffer; conflicts: number }
  | { path: string; action: 'binary-conflict' }
  | { path: string; action: 'add'; bytes: Buffer }
  | { path: string; action: 'remove' }
  | { path: string; action: 'keep-dropped' }
  | { path: string; action: 'stays-deleted' };

export interface UpgradeInput {
  /** What the generator wrote last time (from the manifest). */
  base: FileTree;
  /** The team's files now, for the paths in base or theirs. */
  ours: FileTree;
  /** The current generator's render with the recorded answers. */
  theirs: FileTree;
  /** Paths the team deleted on purpose in an earlier upgrade. */
  deleted: ReadonlySet<string>;
}

function decide(path: string, base?: Buffer, ours?: Buffer, theirs?: Buffer, deletedBefore = false): FileDecision {
  if (theirs === undefined) {
    if (ours === undefined) return { path, action: 'unchanged' };
    if (base !== undefined && ours.equals(base)) return { path, action: 'remove' };
    return { path, action: 'keep-dropped' };
  }
  if (ours === undefined) {
    // Deleted by the team (now or in an earlier upgrade): stays deleted.
    if (base !== undefined || deletedBefore) return { path, action: 'stays-deleted' };
    return { path, action: 'add', bytes: theirs };
  }
  if (ours.equals(theirs)) return { path, action: 'unchanged' };
  if (base !== undefined && ours.equals(base)) return { path, action: 'update', bytes: theirs };
  if (base !== undefined && theirs.equals(base)) return { path, action: 'keep-yours' };
  // Lockfiles do not merge line by line: keep the team's (also one the team committed before the generator
  // wrote any), and npm install reconciles it with the merged package.json.
  if (isLockfile(path)) return { path, action: 'keep-yours-lockfile' };
  // base undefined: the team made a file where the template now adds one: merge against an empty base.
  return fromMerge(path, base ?? Buffer.alloc(0), ours, theirs);
}

function isLockfile(path: string): boolean {
  return path === 'package-lock.json' || path.endsWith('/package-lock.json');
}

function fromMerge(path: string, base: Buffer, ours: Buffer, theirs: Buffer): FileDecision {
  const result = mergeThreeWay(base, ours, theirs);
  if (result.kind === 'binary-conflict') return { path, action: 'binary-conflict' };
  if (result.kind === 'conflict') return { path, action: 'conflict', bytes: result.bytes, conflicts: result.conflicts };
  return { path, action: 'merged', bytes: result.bytes };
}

/** Decides every path (pure: reads nothing, writes nothing), sorted by path. */
export function planUpgrade({ base, ours, theirs, deleted }: UpgradeInput): FileDecision[] {
  const paths = new Set([...base.keys(), ...theirs.keys(), ...deleted]);
  return [...paths].sort().map((p) => decide(p, base.get(p), ours.get(p), theirs.get(p), deleted.has(p)));
}

/** The base the manifest records after the upgrade: the new render, less what the template dropped. */
export function nextBase(decisions: FileDecision[], theirs: FileTree): { base: FileTree; deleted: string[] } {
  const base: FileTree = new Map();
  const deleted: string[] = [];
  for (const d of decisions) {
    const bytes = theirs.get(d.path);
    if (!bytes) continue;
    base.set(d.path, bytes);
    if (d.action === 'stays-deleted') deleted.push(d.path);
  }
  return { base, deleted };
}

export function hasConflicts(decisions: FileDecision[]): boolean {
  return decisions.some((d) => d.action === 'conflict' || d.action === 'binary-conflict');
}

