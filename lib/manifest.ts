import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Answers } from '../generators/options.js';
import { UsageError } from './errors.js';
import type { FileTree } from './file-tree.js';
import { generatorVersion } from './package-root.js';
import type { RecordedPreset } from './preset.js';

/** The contract between a generated service and later runs of the generator (`upgrade`, `check`). */
export const MANIFEST_PATH = '.hardened-service.json';

export interface Manifest {
  generator: { name: 'create-hardened-service'; version: string };
  answers: Answers;
  /** sha256 of each file as the generator last wrote it: a quick answer to "did the team change it?". */
  files: Record<string, string>;
  /** Files the team deleted on purpose: upgrades do not bring them back. */
  deleted: string[];
  /**
   * What the generator last wrote, byte for byte (gzipped JSON, base64; see encodeBase): the merge base of
   * the next upgrade. Kept here so an upgrade needs neither the network nor the old generator.
   */
  base: string;
  /**
   * The organisation preset the service was made with, by content (not path), so that `upgrade` re-applies
   * it and `check` enforces it without the preset file or package. Absent in services made without one, and
   * in manifests written before presets existed.
   */
  preset?: RecordedPreset;
  /**
   * Conflicts the last upgrade left for the team (path → sha256 of the file as it left it): the service stays
   * behind until each is resolved (markers gone, or the file changed). Absent when there are none.
   */
  conflicts?: Record<string, string>;
}

/** What a manifest records besides the answers and the base. */
export interface ManifestRecord {
  deleted?: string[];
  preset?: RecordedPreset | undefined;
  conflicts?: Record<string, string>;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The base as gzipped JSON: { format: 2, files: { path: text | { base64 } } }. Text files are stored as
 * text (only bytes that are not UTF-8 as base64): gzip finds the repeats in text that base64 hides, so the
 * manifest is a third smaller than with format 1 (every file base64) and compresses in half the time at level 3.
 */
interface BaseV2 {
  format: 2;
  files: Record<string, string | { base64: string }>;
}

function encodeBase(tree: FileTree): string {
  const files: BaseV2['files'] = {};
  // Valid UTF-8 decodes and encodes back to the same bytes; anything else is kept as base64.
  for (const [path, bytes] of tree) files[path] = isUtf8(bytes) ? bytes.toString('utf8') : { base64: bytes.toString('base64') };
  return gzipSync(JSON.stringify({ format: 2, files } satisfies BaseV2), { level: 3 }).toString('base64');
}

/** Reads both formats: format 1 (a flat path → base64 record) is what earlier builds of the generator wrote. */
export function decodeBase(manifest: Manifest): FileTree {
  let parsed: BaseV2 | Record<string, string> | { format: unknown };
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(manifest.base, 'base64')).toString('utf8'));
  } catch {
    throw new UsageError(`${MANIFEST_PATH}: "base" is not gzipped JSON: restore it from version control`);
  }
  if (!('format' in parsed)) {
    return new Map(Object.entries(parsed as Record<string, string>).map(([path, b64]) => [path, Buffer.from(b64, 'base64')]));
  }
  if (parsed.format !== 2) {
    throw new UsageError(
      `${MANIFEST_PATH}: base format ${String(parsed.format)} is newer than this generator (${generatorVersion}): run a newer create-hardened-service`,
    );
  }
  return new Map(
    Object.entries((parsed as BaseV2).files).map(([path, v]) => [
      path,
      typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64'),
    ]),
  );
}

export function createManifest(answers: Answers, base: FileTree, { deleted = [], preset, conflicts = {} }: ManifestRecord = {}): Manifest {
  const files: Record<string, string> = {};
  for (const [path, bytes] of base) files[path] = sha256(bytes);
  return {
    generator: { name: 'create-hardened-service', version: generatorVersion },
    answers,
    files,
    deleted: [...deleted].sort(),
    base: encodeBase(base),
    ...(preset ? { preset } : {}),
    ...(Object.keys(conflicts).length ? { conflicts } : {}),
  };
}

export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Adds the manifest to a freshly rendered tree. */
export function withManifest(answers: Answers, tree: FileTree, preset?: RecordedPreset): FileTree {
  return new Map([...tree, [MANIFEST_PATH, serializeManifest(createManifest(answers, tree, { preset }))]]);
}

/** Reads a service's manifest, or explains in one line why it cannot. */
export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(join(dir, MANIFEST_PATH), 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new UsageError(`${dir} has no ${MANIFEST_PATH}: it was not generated by create-hardened-service (use \`check\` to audit it)`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw new UsageError(`${join(dir, MANIFEST_PATH)} is not valid JSON: restore it from version control`);
  }
  if (manifest.generator?.name !== 'create-hardened-service' || typeof manifest.base !== 'string' || !manifest.answers) {
    throw new UsageError(`${join(dir, MANIFEST_PATH)} is incomplete: restore it from version control`);
  }
  if (manifest.preset !== undefined && (typeof manifest.preset !== 'object' || manifest.preset === null)) {
    throw new UsageError(`${join(dir, MANIFEST_PATH)}: "preset" is not an object: restore it from version control`);
  }
  manifest.deleted ??= [];
  return manifest;
}
