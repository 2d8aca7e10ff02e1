import { isUtf8 } from 'node:buffer';
import { pathProblem } from './service-paths.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FileTree } from '../../core/file-tree.js';
import { isBinary } from './merge-file.js';

/** A renamed file is at least this like what the generator wrote (git's default rename threshold is 50%)... */
const SURE = 0.6;
/** ...and clearly more like it than any other file; from here up, a file might be it. */
const MAYBE = 0.4;
const MARGIN = 0.15;

/** Share of lines two files have in common (as multisets): 2·common / (lines of a + lines of b). */
export function similarity(a: Buffer, b: Buffer): number {
  const lines = (x: Buffer) => x.toString('latin1').split(/\r?\n/).filter((l) => l.trim() !== '');
  const [la, lb] = [lines(a), lines(b)];
  if (la.length + lb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const l of la) counts.set(l, (counts.get(l) ?? 0) + 1);
  let common = 0;
  for (const l of lb) {
    const n = counts.get(l) ?? 0;
    if (n > 0) {
      common++;
      counts.set(l, n - 1);
    }
  }
  return (2 * common) / (la.length + lb.length);
}

export type RenameGuess = { kind: 'renamed'; to: string } | { kind: 'unsure'; candidates: string[] } | { kind: 'none' };

/**
 * Where a generated file the team no longer has went: the one file with the same extension that is clearly
 * like what the generator wrote; the few that might be it when none is clearly; or nowhere (deleted).
 */
export function findRename(path: string, original: Buffer, candidates: FileTree): RenameGuess {
  const scored = [...candidates]
    .filter(([p]) => extname(p) === extname(path))
    .map(([p, bytes]) => ({ p, score: similarity(original, bytes) }))
    .filter((c) => c.score >= MAYBE)
    .sort((a, b) => b.score - a.score || (a.p < b.p ? -1 : 1));
  const [best, second] = scored;
  if (!best) return { kind: 'none' };
  if (best.score >= SURE && (!second || second.score <= best.score - MARGIN)) return { kind: 'renamed', to: best.p };
  return { kind: 'unsure', candidates: scored.slice(0, 3).map((c) => c.p) };
}

/** Folders no generated file is renamed into: version control, dependencies, build output. */
const NOT_SEARCHED = new Set(['.git', 'node_modules', 'dist', 'coverage']);
/** The manifest, the upgrade's journal and lock. */
const OWN = /^\.hardened-service\./;
const MAX_CANDIDATE_BYTES = 1024 * 1024;

/**
 * The service's own text files (regular files, not followed through symlinks) that the generator does not write.
 * Walked with a queue, not recursion, so a deep tree costs memory, not stack; names that are not UTF-8, paths
 * longer than a manifest may record, and entries it cannot read cannot be rename targets and are passed over.
 */
export async function renameCandidates(dir: string, generated: ReadonlySet<string>): Promise<FileTree> {
  const found: FileTree = new Map();
  const queue = [''];
  for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
    const entries = await readdir(join(dir, rel), { withFileTypes: true, encoding: 'buffer' }).catch(() => []);
    for (const entry of entries) {
      if (!isUtf8(entry.name)) continue;
      const name = entry.name.toString('utf8');
      const path = rel ? `${rel}/${name}` : name;
      if (OWN.test(name) || pathProblem(path) !== undefined) continue;
      if (entry.isDirectory() && !NOT_SEARCHED.has(name)) queue.push(path);
      if (!entry.isFile() || generated.has(path)) continue;
      const bytes = await stat(join(dir, path)).then(
        (info) => (info.isFile() && info.size <= MAX_CANDIDATE_BYTES ? readFile(join(dir, path)) : undefined),
        () => undefined,
      ).catch(() => undefined);
      if (bytes && !isBinary(bytes)) found.set(path, bytes);
    }
  }
  return found;
}

export interface RenameInput {
  base: FileTree;
  theirs: FileTree;
  /** The team's files (readServiceFiles), and where generated paths live when not at themselves. */
  ours: FileTree;
  locations: ReadonlyMap<string, string>;
  special: ReadonlyMap<string, string>;
  deleted: ReadonlySet<string>;
}

export interface Renames {
  renamed: Map<string, { to: string; bytes: Buffer }>;
  unsure: Map<string, string[]>;
}

/**
 * Generated files the team no longer has, that the template changed, and that were not deleted on purpose
 * before: the change must land in the renamed file, or be reported. Only then is the service searched.
 */
export async function detectRenames(dir: string, input: RenameInput): Promise<Renames> {
  const { base, theirs, ours, locations, special, deleted } = input;
  const renames: Renames = { renamed: new Map(), unsure: new Map() };
  const missing = [...theirs.keys()].filter((p) => !ours.has(p) && !special.has(p) && !deleted.has(p) && base.has(p) && !base.get(p)!.equals(theirs.get(p)!));
  if (missing.length === 0) return renames;
  const candidates = await renameCandidates(dir, new Set([...base.keys(), ...theirs.keys(), ...locations.values()]));
  for (const path of missing.sort()) {
    const guess = findRename(path, base.get(path)!, candidates);
    if (guess.kind === 'renamed') {
      renames.renamed.set(path, { to: guess.to, bytes: candidates.get(guess.to)! });
      candidates.delete(guess.to);
    } else if (guess.kind === 'unsure') renames.unsure.set(path, guess.candidates);
  }
  return renames;
}
