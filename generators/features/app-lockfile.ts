import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../core/file-tree.js';
import { packageRoot } from '../../core/package-root.js';
import type { Answers } from '../../core/options.js';

/**
 * The emitted service ships a package-lock.json, so that `npm ci` (Dockerfile, CI) works from the first
 * commit and every package is pinned with its integrity hash. The resolved tree for each framework and Node
 * line lives in data/lockfiles/ (refreshed by `npm run refresh-lockfiles`); the lockfile's root entry is
 * derived from the rendered package.json, so the two cannot disagree.
 */
export function lockDataPath(answers: Pick<Answers, 'framework' | 'nodeVersion'>): string {
  return join(packageRoot, 'data', 'lockfiles', `${answers.framework}-node${answers.nodeVersion}.json`);
}

interface LockEntry {
  version?: string;
  [key: string]: unknown;
}

export function composeLockfile(packageJson: Buffer, answers: Answers): Buffer {
  const pkg = JSON.parse(packageJson.toString('utf8')) as Record<string, unknown>;
  const path = lockDataPath(answers);
  if (!existsSync(path)) throw new Error(`no lockfile data for ${answers.framework} on Node ${answers.nodeVersion}: run npm run refresh-lockfiles`);
  const { packages } = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, LockEntry> };
  const root: Record<string, unknown> = { name: pkg.name, version: pkg.version };
  for (const key of ['dependencies', 'devDependencies', 'engines'] as const) if (pkg[key]) root[key] = pkg[key];
  for (const field of ['dependencies', 'devDependencies'] as const) {
    for (const [name, version] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
      const locked = packages[`node_modules/${name}`]?.version;
      if (locked !== version) {
        throw new Error(`lockfile data ${path} has ${name}@${locked ?? 'nothing'} but package.json wants ${version}: run npm run refresh-lockfiles`);
      }
    }
  }
  const lock = { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages: { '': root, ...packages } };
  return Buffer.from(`${JSON.stringify(lock, null, 2)}\n`);
}

export function addLockfile(tree: FileTree, answers: Answers): void {
  const packageJson = tree.get('package.json');
  if (packageJson) tree.set('package-lock.json', composeLockfile(packageJson, answers));
}
