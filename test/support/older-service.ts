import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FileTree } from '../../core/file-tree.js';
import { decodeBase, MANIFEST_PATH, type Manifest, sha256 } from '../../lib/manifest.js';
import { runCli } from './cli.js';

/** Generates a service with the current generator (the real CLI) and returns its directory. */
export async function generate(parent: string, name: string, flags: string[] = []): Promise<string> {
  const result = await runCli([name, ...flags], { cwd: parent });
  if (result.exitCode !== 0) throw new Error(`generation failed: ${result.stderr}`);
  return join(parent, name);
}

/**
 * Makes a freshly generated service look as if an older generator had made it: `olderTemplates` turns
 * today's render into what the older templates rendered; the files on disk and the manifest's merge base
 * become that older render, and the manifest names the older version.
 */
export async function rewindToOlderGenerator(
  dir: string,
  olderTemplates: (tree: FileTree) => void,
  manifestEdit: (manifest: Manifest) => void = () => {},
  version = '0.0.9',
): Promise<FileTree> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
  const current = decodeBase(manifest);
  const older: FileTree = new Map([...current].map(([p, b]) => [p, Buffer.from(b)]));
  olderTemplates(older);
  for (const path of current.keys()) if (!older.has(path)) await rm(join(dir, path));
  for (const [path, bytes] of older) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  // Format 1 (every file base64), as older builds wrote it: every upgrade test also reads that format.
  const entries = Object.fromEntries([...older].map(([p, b]) => [p, b.toString('base64')]));
  manifest.base = gzipSync(JSON.stringify(entries)).toString('base64');
  manifest.files = Object.fromEntries([...older].map(([p, b]) => [p, sha256(b)]));
  manifest.generator.version = version;
  manifestEdit(manifest);
  await writeFile(join(dir, MANIFEST_PATH), `${JSON.stringify(manifest, null, 2)}\n`);
  return older;
}

/** Edits one text file of the service in place. */
export async function edit(dir: string, path: string, change: (text: string) => string): Promise<void> {
  await writeFile(join(dir, path), change(await readFile(join(dir, path), 'utf8')));
}

/** Replaces the first occurrence of `find` and fails loudly when the template no longer has it. */
export function replaceOnce(text: string, find: string, replacement: string): string {
  if (!text.includes(find)) throw new Error(`fixture is stale: text does not contain ${JSON.stringify(find)}`);
  return text.replace(find, replacement);
}
