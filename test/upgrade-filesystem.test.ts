/**
 * What teams' file systems hold besides plain files, and what goes wrong while writing: symlinks, failed
 * writes, two runs at once.
 */
import { lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_PATH } from '../lib/manifest.js';
import { listTree, runCli, tempDir } from './support/cli.js';
import { generate as generateAs, replaceOnce, rewindToOlderGenerator } from './support/older-service.js';

const generate = (parent: string, dir: string) => generateAs(parent, dir, ['--name', 'svc']);
const olderReadme = (t: string) => replaceOnce(t, '## Build the image', '## Container image');

let parent: string;
let freshReadme: string;

beforeAll(async () => {
  parent = await tempDir();
  freshReadme = await readFile(join(await generate(parent, 'fresh'), 'README.md'), 'utf8');
});

async function upgrade(dir: string, ...flags: string[]) {
  return runCli(['upgrade', dir, '--yes', ...flags], { cwd: parent });
}

/** A service made by the older generator, whose README.md the current templates change. */
async function olderService(name: string): Promise<string> {
  const dir = await generate(parent, name);
  await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
  return dir;
}

describe('symlinks: never followed or replaced silently', () => {
  it('a generated file the team replaced by a symlink inside the service: merged into the target, the link stays', async () => {
    const dir = await olderService('link-inside');
    await mkdir(join(dir, 'docs'));
    await rename(join(dir, 'README.md'), join(dir, 'docs', 'README.md'));
    await symlink('docs/README.md', join(dir, 'README.md'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('link-inside: 1 updated (0.0.9 → 0.1.0); through symlinks: README.md → docs/README.md');
    expect((await lstat(join(dir, 'README.md'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'README.md'))).toBe('docs/README.md');
    expect(await readFile(join(dir, 'docs', 'README.md'), 'utf8')).toBe(freshReadme);
    expect((await upgrade(dir, '--check')).exitCode).toBe(0);
  });

  it.each([
    ['a symlink to nothing', 'a symlink to nothing', async (dir: string) => symlink('docs/gone.md', join(dir, 'README.md'))],
    ['a symlink to a folder', 'a symlink to a folder', async (dir: string) => symlink('src', join(dir, 'README.md'))],
    ['a folder', 'a folder where the generator writes a file', async (dir: string) => mkdir(join(dir, 'README.md'))],
    ['a symlink to another generated file', 'a symlink to SECURITY.md, which the generator also writes', async (dir: string) => symlink('SECURITY.md', join(dir, 'README.md'))],
  ])('%s where the generator writes a file: left alone, reported, and the service stays behind', async (what, reported, make) => {
    const dir = await olderService(`special-${what.replace(/ /g, '-')}`);
    await rm(join(dir, 'README.md'));
    await make(dir);
    const before = await lstat(join(dir, 'README.md'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`: 1 CONFLICT (left alone) (0.0.9 → 0.1.0); resolve conflicts in: README.md (${reported})`);
    const after = await lstat(join(dir, 'README.md'));
    expect([after.isSymbolicLink(), after.isDirectory(), after.ino]).toEqual([before.isSymbolicLink(), before.isDirectory(), before.ino]);
    expect((await upgrade(dir, '--check')).exitCode).toBe(1);
  });
});
