import type { FileTree } from '../../core/file-tree.js';
import { sha256 } from '../manifest.js';
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
  | { path: string; action: 'encoding-conflict' }
  | { path: string; action: 'too-large-conflict' }
  /** A conflict an earlier upgrade reported that the team has not resolved yet: nothing is merged into it. */
  | { path: string; action: 'unresolved' }
  /** Not a regular file (a symlink to nothing or to a folder, a folder): neither merged into nor replaced. */
  | { path: string; action: 'left-alone'; what: string }
  /** Gone, the template changed it, and files like it exist: deleted, or renamed to one of them? */
  | { path: string; action: 'rename-unsure'; candidates: string[] }
  | { path: string; action: 'add'; bytes: Buffer }
  | { path: string; action: 'remove' }
  | { path: string; action: 'keep-dropped' }
  | { path: string; action: 'stays-deleted' };

/** Decisions that leave the team a conflict to resolve in a file: listed, exit 1, and recorded in the manifest. */
const CONFLICTS = new Set<FileDecision['action']>(['conflict', 'binary-conflict', 'encoding-conflict', 'too-large-conflict', 'unresolved']);
/** Decisions where the template's change was not applied: listed, exit 1, and the base stays, so the service stays behind. */
const NOT_APPLIED = new Set<FileDecision['action']>(['left-alone', 'rename-unsure']);

export interface UpgradeInput {
  /** What the generator wrote last time (from the manifest). */
  base: FileTree;
  /** The team's files now, for the paths in base or theirs. */
  ours: FileTree;
  /** The current generator's render with the recorded answers. */
  theirs: FileTree;
  /** Paths the team deleted on purpose in an earlier upgrade. */
  deleted: ReadonlySet<string>;
  /** Paths with a conflict from an earlier upgrade that the team has not resolved (see unresolvedConflicts). */
  unresolved?: ReadonlySet<string>;
  /** Paths that hold no regular file to merge into (see readServiceFiles): path → what they hold. */
  special?: ReadonlyMap<string, string>;
  /** Paths whose file is elsewhere in the service (a symlink's target, a renamed file): merged into, never deleted. */
  linked?: ReadonlySet<string>;
  /** Paths the team no longer has that may have been renamed to one of several files (see detectRenames). */
  renameUnsure?: ReadonlyMap<string, string[]>;
}

function decide(path: string, base: Buffer | undefined, ours: Buffer | undefined, theirs: Buffer | undefined, input: UpgradeInput): FileDecision {
  const special = input.special?.get(path);
  if (theirs === undefined) {
    if (special !== undefined) return { path, action: 'keep-dropped' };
    if (ours === undefined) return { path, action: 'unchanged' };
    if (base !== undefined && ours.equals(base) && !input.linked?.has(path)) return { path, action: 'remove' };
    return { path, action: 'keep-dropped' };
  }
  if (special !== undefined) return { path, action: 'left-alone', what: special };
  const candidates = input.renameUnsure?.get(path);
  if (ours === undefined && candidates) return { path, action: 'rename-unsure', candidates };
  if (ours === undefined) {
    // Deleted by the team (now or in an earlier upgrade): stays deleted.
    if (base !== undefined || input.deleted.has(path)) return { path, action: 'stays-deleted' };
    return { path, action: 'add', bytes: theirs };
  }
  if (ours.equals(theirs)) return { path, action: 'unchanged' };
  if (input.unresolved?.has(path)) return { path, action: 'unresolved' };
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
  if (result.kind === 'binary-conflict' || result.kind === 'encoding-conflict' || result.kind === 'too-large-conflict') return { path, action: result.kind };
  if (result.kind === 'conflict') return { path, action: 'conflict', bytes: result.bytes, conflicts: result.conflicts };
  return { path, action: 'merged', bytes: result.bytes };
}

/** Decides every path (pure: reads nothing, writes nothing), sorted by path. */
export function planUpgrade(input: UpgradeInput): FileDecision[] {
  const { base, ours, theirs, deleted } = input;
  const paths = new Set([...base.keys(), ...theirs.keys(), ...deleted]);
  return [...paths].sort().map((p) => decide(p, base.get(p), ours.get(p), theirs.get(p), input));
}

export interface NextBase {
  base: FileTree;
  deleted: string[];
  /** Each conflicted path → sha256 of what the upgrade left there: unresolved while the file is unchanged. */
  conflicts: Record<string, string>;
}

/**
 * What the manifest records after the upgrade: the new render (less what the template dropped; the old base
 * where the change was not applied), deletions, conflicts.
 */
export function nextBase(decisions: FileDecision[], { base, ours, theirs }: Pick<UpgradeInput, 'base' | 'ours' | 'theirs'>): NextBase {
  const next: NextBase = { base: new Map(), deleted: [], conflicts: {} };
  for (const d of decisions) {
    const bytes = NOT_APPLIED.has(d.action) ? base.get(d.path) : theirs.get(d.path);
    if (!bytes) continue;
    next.base.set(d.path, bytes);
    if (d.action === 'stays-deleted') next.deleted.push(d.path);
    if (CONFLICTS.has(d.action)) next.conflicts[d.path] = sha256('bytes' in d ? d.bytes : ours.get(d.path)!);
  }
  return next;
}

/** Does the decision leave the team something to do (exit 1)? */
export function isConflict(decision: FileDecision): boolean {
  return CONFLICTS.has(decision.action) || NOT_APPLIED.has(decision.action);
}

export function hasConflicts(decisions: FileDecision[]): boolean {
  return decisions.some(isConflict);
}
