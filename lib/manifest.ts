import { createHash } from 'node:crypto';
import type { Answers } from '../generators/options.js';
import type { FileTree } from './file-tree.js';
import { generatorVersion } from './package-root.js';

/** The contract between a generated service and later runs of the generator (`upgrade`, `check`). */
export const MANIFEST_PATH = '.hardened-service.json';

export interface Manifest {
  generator: { name: 'create-hardened-service'; version: string };
  answers: Answers;
  /** sha256 of each file as the generator wrote it. */
  files: Record<string, string>;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function createManifest(answers: Answers, tree: FileTree): Manifest {
  const files: Record<string, string> = {};
  for (const [path, bytes] of tree) files[path] = sha256(bytes);
  return { generator: { name: 'create-hardened-service', version: generatorVersion }, answers, files };
}

/** Adds the manifest to a rendered tree. */
export function withManifest(answers: Answers, tree: FileTree): FileTree {
  const manifest = createManifest(answers, tree);
  return new Map([...tree, [MANIFEST_PATH, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]]);
}
