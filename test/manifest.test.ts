import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { options } from '../core/options.js';
import type { FileTree } from '../core/file-tree.js';
import { createManifest, decodeBase, type Manifest } from '../lib/manifest.js';
import { pathProblem } from '../lib/upgrade/service-paths.js';
import { answersFor } from './support/answers.js';
import { repoRoot } from './support/cli.js';

const tree: FileTree = new Map([
  ['README.md', Buffer.from('# svc\n\nÜmlaut, emoji 🚀, CRLF\r\n', 'utf8')],
  ['empty', Buffer.alloc(0)],
  // Not UTF-8: a PNG signature and a lone continuation byte.
  ['logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x80, 0xff])],
]);

describe('manifest base', () => {
  it('gives back every file byte for byte, text and binary', async () => {
    const manifest = createManifest(await answersFor(), tree);
    const back = decodeBase(manifest);
    expect([...back.keys()]).toEqual([...tree.keys()]);
    for (const [path, bytes] of tree) expect(back.get(path)!.equals(bytes), path).toBe(true);
  });

  it('still reads format 1 (every file base64), as earlier builds wrote it', async () => {
    const legacy = Object.fromEntries([...tree].map(([path, bytes]) => [path, bytes.toString('base64')]));
    const manifest: Manifest = { ...createManifest(await answersFor(), tree), base: gzipSync(JSON.stringify(legacy)).toString('base64') };
    const back = decodeBase(manifest);
    for (const [path, bytes] of tree) expect(back.get(path)!.equals(bytes), path).toBe(true);
  });

  it('says in one line what is wrong with an unreadable base or one from a newer generator', async () => {
    const manifest = createManifest(await answersFor(), tree);
    expect(() => decodeBase({ ...manifest, base: 'bm90IGd6aXA=' })).toThrow(/"base" is not gzipped JSON: restore it from version control$/);
    const future = gzipSync(JSON.stringify({ format: 3, files: {} })).toString('base64');
    expect(() => decodeBase({ ...manifest, base: future })).toThrow(/base format 3 is newer than this generator .*: run a newer create-hardened-service$/);
  });
});

describe('data/manifest.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'data', 'manifest.schema.json'), 'utf8'));

  it('types every answer of the options model (integer or string), and nothing else', () => {
    const expected = Object.fromEntries(options.map((o) => [o.key, { type: o.type === 'integer' ? 'integer' : 'string' }]));
    expect(schema.properties.answers.properties).toEqual(expected);
  });

  it("states the same path rule as the code that guards the upgrade's writes", () => {
    const pattern = new RegExp(schema.definitions.path.pattern, 'u');
    const samples = ['README.md', 'src/app.ts', '.github/workflows/ci.yml', 'a..b/c', '...', '../x', 'a/../b', 'a/..', '/etc/passwd', 'C:/x', 'c:x', 'a\\b', 'a//b', './a', 'a/./b', 'a/', '', 'a\0b'];
    for (const path of samples) expect(pattern.test(path), path).toBe(pathProblem(path) === undefined);
  });
});
