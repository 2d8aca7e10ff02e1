/**
 * What teams' file systems hold besides plain files, and what goes wrong while writing: symlinks, failed
 * writes, two runs at once.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_DIR } from '../lib/upgrade/apply-changes.js';
import { LOCK_FILE } from '../lib/upgrade/service-lock.js';
import { cliPath, listTree, runCli, tempDir } from './support/cli.js';
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

/** Every file below `dir` (the journal and lock included) with its content. */
async function contents(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of await listTree(dir)) files.set(path, (await readFile(join(dir, path))).toString('base64'));
  return files;
}

/** Older README.md and chart/values.yaml: the upgrade writes README.md first, then the chart (paths sorted). */
async function olderServiceTouchingChart(name: string, root = parent): Promise<string> {
  const dir = await generate(root, name);
  await rewindToOlderGenerator(dir, (tree) => {
    tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString())));
    tree.set('chart/values.yaml', Buffer.from(`${tree.get('chart/values.yaml')!.toString()}# older\n`));
  });
  return dir;
}

describe('a write that fails mid-apply is rolled back in the same run', () => {
  it('permission denied on the chart folder after README.md was replaced: exit 1, one line, the service as it was', async () => {
    const root = await tempDir();
    await chmod(root, 0o755);
    const dir = await olderServiceTouchingChart('svc', root);
    // The service belongs to an ordinary user, but not its chart folder (root may write anywhere, so the
    // upgrade runs as uid 65534).
    await execa('chown', ['-R', '65534:65534', dir]);
    await execa('chown', ['0:0', join(dir, 'chart')]);
    const before = await contents(dir);
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', cliPath, 'upgrade', dir, '--yes'], { reject: false, env: { CI: 'true' } });
    expect(result.stderr).toBe('create-hardened-service: could not write chart/values.yaml (EACCES: permission denied): rolled back, the service is as it was');
    expect(result.exitCode).toBe(1);
    expect(await contents(dir)).toEqual(before);
  });

  it('disk full while staging: exit 1, one line, nothing changed', async () => {
    const dir = await olderServiceTouchingChart('disk-full');
    // A 2 MiB tmpfs (bubblewrap) holds a copy of the service; a filler leaves it two pages (8 KiB) free.
    const script = `set -e
cp -a "$SVC" /mnt/full/svc
head -c 8192 /dev/zero > /mnt/full/pad
head -c 4194304 /dev/zero > /mnt/full/filler 2>/dev/null || true
rm /mnt/full/pad
snapshot() { (cd /mnt/full/svc && find . -type f | sort | xargs sha256sum); }
before=$(snapshot)
set +e
node "$CLI" upgrade /mnt/full/svc --yes >/dev/null 2>/mnt/full/err
echo "exit=$?"
cat /mnt/full/err
[ "$before" = "$(snapshot)" ] && echo unchanged`;
    const result = await execa('bwrap', ['--dev-bind', '/', '/', '--size', String(2 * 1024 * 1024), '--tmpfs', '/mnt/full', 'sh', '-c', script], {
      env: { CI: 'true', SVC: dir, CLI: cliPath, PATH: process.env.PATH },
    });
    const [exit, err, unchanged] = result.stdout.split('\n');
    expect(err).toMatch(/^create-hardened-service: could not stage \S+ \(ENOSPC: no space left on device\): nothing changed$/);
    expect(exit).toBe('exit=1');
    expect(unchanged).toBe('unchanged');
  });
});

describe('the upgrade journal: what an interrupted run left, said truthfully', () => {
  it('killed while removing its journal after completing: the next run says nothing was rolled back, and changes nothing', async () => {
    const dir = await olderService('journal-leftover');
    expect((await upgrade(dir)).exitCode).toBe(0);
    // What a kill during the journal's removal leaves: the journal file is gone first, backups remain.
    await mkdir(join(dir, JOURNAL_DIR, 'old'), { recursive: true });
    await writeFile(join(dir, JOURNAL_DIR, 'old', '0'), await readFile(join(dir, 'README.md')));
    const upgraded = await contents(dir);
    const again = await upgrade(dir);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain('rolled back');
    expect(again.stdout).toContain('journal-leftover: removed what an interrupted upgrade left (it had changed nothing, or had completed: nothing to roll back)');
    const after = await contents(dir);
    for (const path of upgraded.keys()) if (!path.startsWith(JOURNAL_DIR)) expect(after.get(path), path).toBe(upgraded.get(path));
    expect([...after.keys()].some((p) => p.startsWith(JOURNAL_DIR))).toBe(false);
  });

  it("a journal that names a path outside the service is refused, and that path is not touched", async () => {
    const root = await tempDir();
    const dir = await olderService('journal-outside');
    await writeFile(join(root, 'victim.txt'), 'not the service\'s\n');
    await mkdir(join(dir, JOURNAL_DIR));
    await writeFile(join(dir, JOURNAL_DIR, 'journal.json'), JSON.stringify({ changes: [{ path: `../../${root.split('/').pop()}/victim.txt`, staged: null, backup: null }] }));
    const result = await upgrade(dir);
    expect(result.stderr).toBe(`create-hardened-service: ${JOURNAL_DIR}/journal.json is not one this generator wrote: remove ${JOURNAL_DIR} (after checking the service with git)`);
    expect(result.exitCode).toBe(2);
    expect(await readFile(join(root, 'victim.txt'), 'utf8')).toBe('not the service\'s\n');
  });

  it('a journal folder that is a symlink is refused', async () => {
    const root = await tempDir();
    const dir = await olderService('journal-symlink');
    await symlink(root, join(dir, JOURNAL_DIR));
    const result = await upgrade(dir);
    expect(result.stderr).toBe(`create-hardened-service: ${JOURNAL_DIR} in the service is not the upgrade's own folder (a symlink): remove it`);
    expect(result.exitCode).toBe(2);
    expect(await listTree(root)).toEqual([]);
  });
});

describe('two runs at once: a lock file in the service', () => {
  it('a live holder: the second run waits briefly, then exits 2 naming the holder, and writes nothing', async () => {
    const dir = await olderService('locked');
    const holder = { pid: process.pid, host: hostname(), started: '2026-11-27T10:00:00.000Z' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(holder));
    const before = await contents(dir);
    const started = Date.now();
    const result = await upgrade(dir);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(result.stderr).toBe(`create-hardened-service: locked is being upgraded by pid ${process.pid} on ${hostname()} since 2026-11-27T10:00:00.000Z: wait for it to finish, or remove locked/${LOCK_FILE} if that run is gone`);
    expect(result.exitCode).toBe(2);
    expect(await contents(dir)).toEqual(before);
  });

  it('a lock left by a dead process on this host is broken, and the upgrade runs', async () => {
    const dir = await olderService('stale-lock');
    const dead = await execa('node', ['-e', 'process.stdout.write(String(process.pid))']);
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: '2026-11-27T10:00:00.000Z' }));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('stale-lock: 1 updated (0.0.9 → 0.1.0)');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a scheduled job and a person at once: one upgrades, the other waits or is refused; neither fails', async () => {
    for (let pair = 0; pair < 4; pair++) {
      const dir = await olderServiceTouchingChart(`pair-${pair}`);
      const results = await Promise.all([upgrade(dir), upgrade(dir)]);
      for (const r of results) expect([0, 2], r.stderr).toContain(r.exitCode);
      expect(results.filter((r) => r.stdout.includes('2 updated (0.0.9 → 0.1.0)'))).toHaveLength(1);
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      expect(existsSync(join(dir, JOURNAL_DIR))).toBe(false);
      expect((await upgrade(dir, '--check')).exitCode).toBe(0);
    }
  });
});
