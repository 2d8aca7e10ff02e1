import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../core/file-tree.js';
import { packageRoot } from '../../core/package-root.js';
import type { Answers } from '../../core/options.js';

/**
 * The emitted service ships a package-lock.json, so that `npm ci` (Dockerfile, CI) works from the first
 * commit and every package is pinned with its integrity hash. The resolved tree for each framework and Node
 * line lives in data/lockfiles/ (refreshed by `npm run refresh-lockfiles`), resolved once with every optional
 * client (pg, mysql2, ioredis) among the dependencies; each service's lockfile keeps only the packages its own
 * package.json reaches, and its root entry is derived from that package.json, so the two cannot disagree.
 */
export function lockDataPath(answers: Pick<Answers, 'framework' | 'nodeVersion'>): string {
  return join(packageRoot, 'data', 'lockfiles', `${answers.framework}-node${answers.nodeVersion}.json`);
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

/** Where npm finds `name` for the package at `from`: its own node_modules, then each ancestor's, then the top. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
    const path = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[path]) return path;
    if (base === '') return undefined;
  }
}

/**
 * Every lockfile path reachable from the given top-level dependencies, following each package's own edges
 * (peer dependencies too, unless `peers` is false).
 */
function reachable(packages: Record<string, LockEntry>, roots: string[], peers = true): Set<string> {
  const seen = new Set<string>();
  const visit = (from: string, name: string) => {
    const path = resolveFrom(packages, from, name);
    if (path === undefined || seen.has(path)) return;
    seen.add(path);
    const entry = packages[path]!;
    const required = peers ? Object.keys(entry.peerDependencies ?? {}).filter((peer) => !entry.peerDependenciesMeta?.[peer]?.optional) : [];
    for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}), ...required]) visit(path, dep);
  };
  for (const name of roots) visit('', name);
  return seen;
}

export function composeLockfile(packageJson: Buffer, answers: Answers): Buffer {
  const pkg = JSON.parse(packageJson.toString('utf8')) as Record<string, unknown>;
  const path = lockDataPath(answers);
  if (!existsSync(path)) throw new Error(`no lockfile data for ${answers.framework} on Node ${answers.nodeVersion}: run npm run refresh-lockfiles`);
  const { packages } = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, LockEntry> };
  const root: Record<string, unknown> = { name: pkg.name, version: pkg.version };
  for (const key of ['dependencies', 'devDependencies', 'engines'] as const) if (pkg[key]) root[key] = pkg[key];
  const deps = (field: 'dependencies' | 'devDependencies') => (pkg[field] ?? {}) as Record<string, string>;
  for (const [name, version] of Object.entries({ ...deps('dependencies'), ...deps('devDependencies') })) {
    const locked = packages[`node_modules/${name}`]?.version;
    if (locked !== version) {
      throw new Error(`lockfile data ${path} has ${name}@${locked ?? 'nothing'} but package.json wants ${version}: run npm run refresh-lockfiles`);
    }
  }
  // What this service's package.json reaches. npm's dev flag must still hold for it: packages the production
  // dependencies need are not dev, packages only the development ones need are (a peer that a devDependency
  // provides, such as mysql2's @types/node, is dev as npm resolved it).
  const production = reachable(packages, Object.keys(deps('dependencies')));
  const development = reachable(packages, Object.keys(deps('devDependencies')));
  const needed = reachable(packages, Object.keys(deps('dependencies')), false);
  const kept = new Set([...production, ...development]);
  for (const used of kept) {
    const dev = packages[used]!.dev === true;
    if ((needed.has(used) && dev) || (!production.has(used) && !dev)) {
      throw new Error(`lockfile data ${path}: ${used} is ${dev ? 'dev' : 'not dev'} there, which this service's package.json contradicts: run npm run refresh-lockfiles`);
    }
  }
  const pruned = Object.fromEntries(Object.entries(packages).filter(([key]) => kept.has(key)));
  const lock = { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages: { '': root, ...pruned } };
  return Buffer.from(`${JSON.stringify(lock, null, 2)}\n`);
}

export function addLockfile(tree: FileTree, answers: Answers): void {
  const packageJson = tree.get('package.json');
  if (packageJson) tree.set('package-lock.json', composeLockfile(packageJson, answers));
}
