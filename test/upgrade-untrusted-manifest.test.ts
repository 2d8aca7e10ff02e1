/**
 * The manifest lives in the team's repository and the scheduled upgrade job acts on it: `upgrade` treats it as
 * untrusted input. Whatever is wrong with it: one line naming the field, exit 2, nothing written anywhere.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_PATH, type Manifest } from '../lib/manifest.js';
import { listTree, runCli, tempDir } from './support/cli.js';
import { generate, rewindToOlderGenerator } from './support/older-service.js';

let parent: string;

beforeAll(async () => {
  parent = await tempDir();
});

/** Every file below `root` (the service and what lies next to it) with its content. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of await listTree(root)) files.set(path, (await readFile(join(root, path))).toString('base64'));
  return files;
}

async function manifestOf(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
}

const gzipBase = (value: unknown) => gzipSync(JSON.stringify(value)).toString('base64');

/** Runs upgrade and expects a refusal: exit 2, exactly one line on stderr matching `message`, nothing written. */
async function expectRefused(root: string, dir: string, message: RegExp, flags: string[] = []) {
  const before = await snapshot(root);
  const result = await runCli(['upgrade', dir, '--yes', ...flags], { cwd: root });
  expect(result.stderr).toMatch(/^create-hardened-service: [^\n]+$/);
  expect(result.stderr).toMatch(message);
  expect(result.exitCode).toBe(2);
  expect(await snapshot(root)).toEqual(before);
}

describe('malformed manifests: exit 2, the field named, nothing written', () => {
  let dir: string;
  let good: Manifest;

  beforeAll(async () => {
    dir = await generate(parent, 'malformed');
    good = await manifestOf(dir);
  });

  const cases: [string, (m: Record<string, unknown> & Manifest) => unknown, RegExp][] = [
    ['answers: {} (would re-render with defaults)', (m) => ({ ...m, answers: {} }), /: answers\.name is missing \(create-hardened-service 0\.1\.0 records it\): restore it from version control$/m],
    ['one answer missing', (m) => ({ ...m, answers: { ...m.answers, framework: undefined } }), /: answers\.framework is missing/],
    ['an answer of the wrong type', (m) => ({ ...m, answers: { ...m.answers, port: '8080' } }), /: answers\.port must be integer: restore it from version control$/m],
    ['answers not an object', (m) => ({ ...m, answers: ['svc'] }), /: answers must be object/],
    ['no generator', (m) => ({ ...m, generator: undefined }), /: generator is missing/],
    ['another generator', (m) => ({ ...m, generator: { ...m.generator, name: 'create-vite' } }), /: generator\.name must be "create-hardened-service"/],
    ['a version that is not a string', (m) => ({ ...m, generator: { ...m.generator, version: 1 } }), /: generator\.version must be string/],
    ['base not a string', (m) => ({ ...m, base: 42 }), /: base must be string/],
    ['base not base64', (m) => ({ ...m, base: 'not base64!' }), /: base is not base64/],
    ['base not a map of files', (m) => ({ ...m, base: gzipBase(['README.md']) }), /"base" is not a map of files/],
    ['base files not a map', (m) => ({ ...m, base: gzipBase({ format: 2, files: 'README.md' }) }), /"base" has no map of files/],
    ['a base file neither text nor base64', (m) => ({ ...m, base: gzipBase({ format: 2, files: { 'README.md': 7 } }) }), /"base" holds "README\.md" as neither text nor base64/],
    ['files not a map', (m) => ({ ...m, files: ['README.md'] }), /: files must be object/],
    ['a file hash that is not a sha256', (m) => ({ ...m, files: { 'README.md': 'abc' } }), /: files\["README\.md"\] must match pattern/],
    ['deleted not a list', (m) => ({ ...m, deleted: 'README.md' }), /: deleted must be array/],
    ['a deleted entry not a string', (m) => ({ ...m, deleted: [42] }), /: deleted\[0\] must be string/],
    ['preset not an object', (m) => ({ ...m, preset: 'acme' }), /: preset must be object/],
    ['not an object at all', () => [], /: the manifest must be object/],
    ['null', () => null, /: the manifest must be object/],
    // Bounds: a 3,000-segment path once passed the schema and crashed upgrade with a 6 KB line.
    ['a deleted path of 3,000 segments', (m) => ({ ...m, deleted: [Array.from({ length: 3000 }, () => 'a').join('/')] }), /: deleted\[0\] must (NOT have more than 1024 characters|match pattern)/],
    ['a conflict path of 40 segments', (m) => ({ ...m, conflicts: { [Array.from({ length: 40 }, () => 'a').join('/')]: 'a'.repeat(64) } }), /conflicts/],
    ['a base path of 3,000 segments', (m) => ({ ...m, base: gzipBase({ format: 2, files: { [Array.from({ length: 3000 }, () => 'a').join('/')]: 'x' } }) }), /"base" holds the path .{0,200}, which is longer than 1024 characters/],
    ['a base that inflates past 64 MiB (a gzip bomb)', (m) => ({ ...m, base: gzipSync(Buffer.alloc(200 * 1024 * 1024, ' '), { level: 9 }).toString('base64') }), /"base" inflates to more than 64 MiB/],
  ];

  it.each(cases)('%s', async (_name, corrupt, message) => {
    await writeFile(join(dir, MANIFEST_PATH), `${JSON.stringify(corrupt(structuredClone(good) as Record<string, unknown> & Manifest), null, 2)}\n`);
    await expectRefused(parent, dir, message);
    // One short line, whatever the manifest holds.
    expect((await runCli(['upgrade', dir, '--yes'], { cwd: parent })).stderr.length).toBeLessThan(600);
  });
});

describe('generator versions: a newer one, or none, is refused unless --allow-downgrade', () => {
  it('a manifest written by a newer generator', async () => {
    const dir = await generate(parent, 'newer');
    await rewindToOlderGenerator(dir, () => {}, () => {}, '9.1.0');
    await expectRefused(
      parent,
      dir,
      /newer\/\.hardened-service\.json was written by create-hardened-service 9\.1\.0, newer than this one \(0\.1\.0\): run that version \(npx create-hardened-service@9\.1\.0\), or upgrade with --allow-downgrade$/m,
    );
    await expectRefused(parent, dir, /newer than this one/, ['--check']);
    const forced = await runCli(['upgrade', dir, '--yes', '--allow-downgrade'], { cwd: parent });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toContain('newer: nothing to change (9.1.0 → 0.1.0)');
    expect((await manifestOf(dir)).generator.version).toBe('0.1.0');
  });

  it('a version that is not one', async () => {
    const dir = await generate(parent, 'no-version');
    await rewindToOlderGenerator(dir, () => {}, () => {}, 'latest');
    await expectRefused(parent, dir, /generator\.version "latest" is not a version \(x\.y\.z\): restore it from version control, or upgrade with --allow-downgrade$/m);
    expect((await runCli(['upgrade', dir, '--yes', '--allow-downgrade'], { cwd: parent })).exitCode).toBe(0);
  });
});

describe('path traversal: a path outside the service is refused before anything is written', () => {
  /** A service inside its own folder, with a file next to it that an upgrade must never touch. */
  async function serviceWithVictim(name: string) {
    const root = join(parent, name);
    await mkdir(root);
    const dir = await generate(root, 'svc');
    await writeFile(join(root, 'victim.txt'), 'not the service\'s\n');
    return { root, dir };
  }

  it('a base entry ../victim.txt (the template dropped it, so upgrade would delete it)', async () => {
    const { root, dir } = await serviceWithVictim('dotdot');
    // rewind writes the older tree to disk: ../victim.txt "was generated" with its current content.
    await rewindToOlderGenerator(
      dir,
      (tree) => tree.set('../victim.txt', Buffer.from('not the service\'s\n')),
      (manifest) => delete manifest.files['../victim.txt'],
    );
    await expectRefused(root, dir, /"base" holds the path "\.\.\/victim\.txt", which climbs out of the service with \.\.: refused; restore the manifest from version control$/m);
    expect(existsSync(join(root, 'victim.txt'))).toBe(true);
  });

  it('an absolute base entry', async () => {
    const { root, dir } = await serviceWithVictim('absolute');
    const victim = join(root, 'victim.txt');
    await rewindToOlderGenerator(
      dir,
      (tree) => tree.set(victim, Buffer.from('not the service\'s\n')),
      (manifest) => delete manifest.files[victim],
    );
    await expectRefused(root, dir, /"base" holds the path ".*victim\.txt", which is absolute/);
  });

  it('a deleted entry with .., and a files entry that is absolute', async () => {
    const { root, dir } = await serviceWithVictim('deleted-list');
    const good = await manifestOf(dir);
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify({ ...good, deleted: ['../victim.txt'] }));
    await expectRefused(root, dir, /: deleted\[0\] is not a relative path inside the service \(absolute, \.\., a backslash or an empty segment\): restore it from version control$/m);
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify({ ...good, files: { ...good.files, '/etc/passwd': good.files['README.md'] } }));
    await expectRefused(root, dir, /: files has the path "\/etc\/passwd", which is not a relative path inside the service/);
  });
});

describe('symlinks that lead outside the service: refused before anything is written', () => {
  it('a generated file replaced by a symlink to a file outside', async () => {
    const root = join(parent, 'link-out');
    await mkdir(root);
    const dir = await generate(root, 'svc');
    await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(`${tree.get('README.md')!.toString()}older\n`)));
    await writeFile(join(root, 'victim.md'), 'not the service\'s\n');
    await rm(join(dir, 'README.md'));
    await symlink('../victim.md', join(dir, 'README.md'));
    await expectRefused(root, dir, /: README\.md leads outside the service \(through a symlink, to .*victim\.md\): refused, nothing written$/m);
  });

  it('a symlinked folder on the way out (chart → a folder next to the service)', async () => {
    const root = join(parent, 'folder-out');
    await mkdir(root);
    const dir = await generate(root, 'svc');
    await rename(join(dir, 'chart'), join(root, 'shared-chart'));
    await symlink('../shared-chart', join(dir, 'chart'));
    await expectRefused(root, dir, /: chart\/.* leads outside the service \(through a symlink, to .*shared-chart.*\): refused, nothing written$/m);
  });
});
