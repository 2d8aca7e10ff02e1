import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';
import type { Answers } from '../core/options.js';
import { UsageError } from './errors.js';
import { displayPath, quotedPath, readRegularText } from './safe-read.js';
import type { FileTree } from '../core/file-tree.js';
import { generatorVersion } from '../core/package-root.js';
import type { RecordedPreset } from './preset.js';
import type { SchemaError } from './manifest-schema-validator.js';
import { pathProblem } from './upgrade/service-paths.js';
import { compareVersions, isVersion } from './upgrade/versions-compare.js';

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
  /** Generated files the team renamed: the generator's path → the path in the service. Absent when none. */
  renamed?: Record<string, string>;
}

/** What a manifest records besides the answers and the base. */
export interface ManifestRecord {
  deleted?: string[];
  preset?: RecordedPreset | undefined;
  conflicts?: Record<string, string>;
  renamed?: Record<string, string>;
}

/** One-shot hashing: no Hash object per file. */
export function sha256(bytes: Buffer | string): string {
  return hash('sha256', bytes, 'hex');
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

function baseJson(tree: FileTree): string {
  const files: BaseV2['files'] = {};
  // Valid UTF-8 decodes and encodes back to the same bytes; anything else is kept as base64.
  for (const [path, bytes] of tree) files[path] = isUtf8(bytes) ? bytes.toString('utf8') : { base64: bytes.toString('base64') };
  return JSON.stringify({ format: 2, files } satisfies BaseV2);
}

const GZIP_OPTIONS = { level: 3 };
const gzipInThreadPool = promisify(gzip);

/** The most a manifest's base may inflate to: a generated service's files take well under 2 MiB. */
export const MAX_BASE_BYTES = 64 * 1024 * 1024;
/** The largest manifest read: its base is compressed, so a real one stays far below. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Reads both formats: format 1 (a flat path → base64 record) is what earlier builds of the generator wrote. */
export function decodeBase(manifest: Manifest): FileTree {
  let parsed: unknown;
  try {
    // Capped while inflating: a gzip bomb stops at the cap instead of filling memory first.
    parsed = JSON.parse(gunzipSync(Buffer.from(manifest.base, 'base64'), { maxOutputLength: MAX_BASE_BYTES }).toString('utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw baseProblem(`inflates to more than ${MAX_BASE_BYTES / 1024 / 1024} MiB (the most a service's generated files may take)`);
    }
    throw new UsageError(`${MANIFEST_PATH}: "base" is not gzipped JSON: restore it from version control`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw baseProblem('is not a map of files');
  const format = 'format' in parsed ? parsed.format : 1;
  if (format !== 1 && format !== 2) {
    throw new UsageError(
      `${MANIFEST_PATH}: base format ${String(format)} is newer than this generator (${generatorVersion}): run a newer create-hardened-service`,
    );
  }
  const files = format === 2 ? (parsed as { files?: unknown }).files : parsed;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw baseProblem('has no map of files');
  const tree: FileTree = new Map();
  for (const [path, v] of Object.entries(files)) {
    const problem = pathProblem(path);
    if (problem) throw baseProblem(`holds the path ${quotedPath(path)}, which ${problem}`);
    if (format === 1 && typeof v === 'string') tree.set(path, Buffer.from(v, 'base64'));
    else if (format === 2 && typeof v === 'string') tree.set(path, Buffer.from(v, 'utf8'));
    else if (format === 2 && typeof v?.base64 === 'string') tree.set(path, Buffer.from(v.base64, 'base64'));
    else throw baseProblem(`holds ${quotedPath(path)} as neither text nor base64`);
  }
  return tree;
}

function baseProblem(what: string): UsageError {
  return new UsageError(`${MANIFEST_PATH}: "base" ${what}: refused; restore the manifest from version control`);
}

function manifestOf(answers: Answers, base: FileTree, encodedBase: string, { deleted = [], preset, conflicts = {}, renamed = {} }: ManifestRecord): Manifest {
  const files: Record<string, string> = {};
  for (const [path, bytes] of base) files[path] = sha256(bytes);
  return {
    generator: { name: 'create-hardened-service', version: generatorVersion },
    answers,
    files,
    deleted: [...deleted].sort(),
    base: encodedBase,
    ...(preset ? { preset } : {}),
    ...(Object.keys(conflicts).length ? { conflicts } : {}),
    ...(Object.keys(renamed).length ? { renamed } : {}),
  };
}

/** The manifest of a service whose generated files are `base`; compressed on the main thread (a generation never starts libuv's thread pool). */
export function createManifest(answers: Answers, base: FileTree, record: ManifestRecord = {}): Manifest {
  return manifestOf(answers, base, gzipSync(baseJson(base), GZIP_OPTIONS).toString('base64'), record);
}

/** The same, compressed in libuv's thread pool: a fleet upgrade compresses some services' bases while it merges others. */
export async function createManifestInThreadPool(answers: Answers, base: FileTree, record: ManifestRecord = {}): Promise<Manifest> {
  return manifestOf(answers, base, (await gzipInThreadPool(baseJson(base), GZIP_OPTIONS)).toString('base64'), record);
}

export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Adds the manifest to a freshly rendered tree. */
export function withManifest(answers: Answers, tree: FileTree, preset?: RecordedPreset): FileTree {
  return new Map([...tree, [MANIFEST_PATH, serializeManifest(createManifest(answers, tree, { preset }))]]);
}

export interface ReadManifestOptions {
  /** The options model (key, and the generator version that introduced it): the answers a recorded version knew must be there. */
  options: readonly { key: string; since: string }[];
  /** Accept a manifest written by a newer generator, or whose version is not one (upgrade --allow-downgrade). */
  allowDowngrade?: boolean;
}

/** Reads a service's manifest, or explains in one line why it cannot. */
/**
 * The manifest's text, undefined when there is none. Never opens a FIFO or device (one line instead of a hang), and
 * refuses a file past MAX_MANIFEST_BYTES before reading it.
 */
export function readManifestText(dir: string, shown = MANIFEST_PATH): string | undefined {
  const path = join(dir, MANIFEST_PATH);
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size > MAX_MANIFEST_BYTES) throw new UsageError(`${displayPath(shown)} is ${Math.round(size / 1024 / 1024)} MiB, more than the ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB a manifest may be: refused`);
  return readRegularText(path, shown);
}

export async function readManifest(dir: string, opts: ReadManifestOptions): Promise<Manifest> {
  const text = readManifestText(dir, join(dir, MANIFEST_PATH));
  if (text === undefined) throw noManifest(dir);
  return parseManifest(text, join(dir, MANIFEST_PATH), opts);
}

export function noManifest(dir: string): UsageError {
  return new UsageError(`${dir} has no ${MANIFEST_PATH}: it was not generated by create-hardened-service (use \`check\` to audit it)`);
}

/**
 * Validates a manifest: it lives in the team's repository and decides what upgrade writes, so it is
 * untrusted input. Refused (UsageError, naming the field): JSON that does not match data/manifest.schema.json,
 * a generator version newer than this one or not a version (unless allowDowngrade), a missing answer that the
 * recorded version asked for (it would silently become a default).
 */
export async function parseManifest(text: string, where: string, { options, allowDowngrade = false }: ReadManifestOptions): Promise<Manifest> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${where} is not valid JSON: restore it from version control`);
  }
  // Before the schema: a newer generator may have written fields this one does not know.
  const version = (value as { generator?: { version?: unknown } } | null)?.generator?.version;
  if (typeof version === 'string' && !allowDowngrade) {
    if (!isVersion(version)) {
      throw new UsageError(`${where}: generator.version ${JSON.stringify(version)} is not a version (x.y.z): restore it from version control, or upgrade with --allow-downgrade`);
    }
    if (compareVersions(version, generatorVersion) > 0) {
      throw new UsageError(
        `${where} was written by create-hardened-service ${version}, newer than this one (${generatorVersion}): run that version (npx create-hardened-service@${version}), or upgrade with --allow-downgrade`,
      );
    }
  }
  const { validateManifestSchema } = await import('./manifest-schema-validator.js');
  if (!validateManifestSchema(value)) throw new UsageError(`${where}: ${describeSchemaError(validateManifestSchema.errors![0]!)}: restore it from version control`);
  const manifest = value as Manifest;
  const recorded = manifest.generator.version;
  const missing = options.find((o) => !Object.hasOwn(manifest.answers, o.key) && (!isVersion(recorded) || compareVersions(o.since, recorded) <= 0));
  if (missing) {
    throw new UsageError(`${where}: answers.${missing.key} is missing (create-hardened-service ${recorded} records it): restore it from version control`);
  }
  manifest.deleted ??= [];
  return manifest;
}

/** `/answers/port` → `answers.port`, `/files/README.md` → `files["README.md"]`, `/deleted/0` → `deleted[0]`. */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((field, p) => (/^\d+$/.test(p) ? `${field}[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? (field ? `${field}.${p}` : p) : `${field}[${JSON.stringify(p)}]`), '');
}

function describeSchemaError(e: SchemaError): string {
  const field = fieldName(e.instancePath);
  if (e.keyword === 'required') return `${field ? `${field}.` : ''}${String(e.params.missingProperty)} is missing`;
  if (e.schemaPath === '#/definitions/path/pattern') {
    const which = e.propertyName === undefined ? field : `${field} has the path ${JSON.stringify(e.propertyName)}, which`;
    return `${which} is not a relative path inside the service (absolute, .., a backslash or an empty segment)`;
  }
  if (e.keyword === 'const') return `${field} must be ${JSON.stringify(e.params.allowedValue)}`;
  if (field === 'base' && e.keyword === 'pattern') return 'base is not base64';
  return `${field || 'the manifest'} ${e.message ?? 'is not valid'}`;
}
