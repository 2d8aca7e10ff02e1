/**
 * Trees a platform team meets in a fleet, and what once hung or blew up `check` and `upgrade`: a FIFO where a file is
 * read, a gzip bomb in the manifest, a name that is not UTF-8, folders nested past the OS path limit, a file name
 * with a newline, a lock temporary a killed run left. Each service gets exactly one line, the run ends, and the exit
 * codes of the mixed fleet are the documented ones.
 */
import { execa } from 'execa';
import { mkfifo } from './support/fifo.js';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_PATH, MAX_BASE_BYTES } from '../lib/manifest.js';
import { checkEnv } from './support/check.js';
import { cliPath, tempDir } from './support/cli.js';
import { generate, rewindToOlderGenerator } from './support/older-service.js';

const RUN_LIMIT_MS = 90_000;
let parent: string;

/** A service made by the older generator (its README changes with this one), so upgrade merges, searches renames, writes. */
async function older(name: string): Promise<string> {
  const dir = await generate(parent, name, ['--name', 'svc']);
  await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(tree.get('README.md')!.toString().replace('## Build the image', '## Container image'))));
  return dir;
}

async function editManifest(dir: string, change: (m: Record<string, unknown>) => void): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Record<string, unknown>;
  change(manifest);
  await writeFile(join(dir, MANIFEST_PATH), JSON.stringify(manifest));
}

const hostile: Record<string, (dir: string) => Promise<void>> = {
  'svc-fifo-dockerfile': async (dir) => {
    await rm(join(dir, 'Dockerfile'));
    await mkfifo(join(dir, 'Dockerfile'));
  },
  'svc-fifo-template': (dir) => mkfifo(join(dir, 'chart/templates/extra.yaml')),
  'svc-fifo-values': async (dir) => {
    await rm(join(dir, 'chart/values.yaml'));
    await mkfifo(join(dir, 'chart/values.yaml'));
  },
  'svc-fifo-manifest': async (dir) => {
    await rm(join(dir, MANIFEST_PATH));
    await mkfifo(join(dir, MANIFEST_PATH));
  },
  // 200 MB of JSON whitespace compress to ~200 KB: a bomb that inflates past the cap.
  'svc-bomb': (dir) => editManifest(dir, (m) => (m.base = gzipSync(Buffer.alloc(MAX_BASE_BYTES * 3, ' '), { level: 9 }).toString('base64'))),
  // A missing generated file the template changed: upgrade searches the tree for where it went.
  'svc-bad-name': async (dir) => {
    await writeFile(Buffer.concat([Buffer.from(`${dir}/src/`), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.md')]), 'not UTF-8\n');
    await rename(join(dir, 'README.md'), join(dir, 'docs-readme.md'));
  },
  'svc-deep': async (dir) => {
    await execa('bash', ['-c', 'cd src && for i in $(seq 1100); do mkdir aaa && cd aaa || exit 1; done; echo x > leaf.txt'], { cwd: dir });
    await rm(join(dir, 'README.md'));
  },
  'svc-newline': (dir) => rename(join(dir, 'README.md'), join(dir, 'READ\nME.md')),
  'svc-stray-lock': async (dir) => {
    await execa('git', ['init', '-q'], { cwd: dir });
    await execa('git', ['add', '-A'], { cwd: dir });
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'service'], { cwd: dir });
    await writeFile(join(dir, '.hardened-service.lock.999999-abcd1234'), JSON.stringify({ pid: 999999, host: hostname(), started: '2026-01-01T00:00:00Z' }));
  },
  'svc-plain': async () => {},
};

beforeAll(async () => {
  parent = await tempDir('chs-hostile-');
  for (const [name, make] of Object.entries(hostile)) await make(await older(name));
}, 300_000);

function serviceLines(output: string): string[] {
  return output.split('\n').filter((l) => l.startsWith('svc-'));
}

describe('a fleet over hostile trees', () => {
  it('upgrade: ends, one line per service, each naming its problem; exit 1 (a service failed), the others upgraded', async () => {
    // Named one by one: a glob finds services by their manifest file, and a FIFO is not one.
    const run = await execa('node', [cliPath, 'upgrade', ...Object.keys(hostile), '--yes'], { cwd: parent, reject: false, timeout: RUN_LIMIT_MS });
    expect(run.timedOut).toBe(false);
    const lines = serviceLines(`${run.stdout}\n${run.stderr}`);
    expect(lines.map((l) => l.split(':')[0]).sort(), `${run.stdout}\n${run.stderr}`).toEqual(Object.keys(hostile).sort());
    const line = (name: string) => lines.find((l) => l.startsWith(`${name}:`))!;
    expect(line('svc-fifo-manifest')).toContain('.hardened-service.json is a FIFO, not a file');
    expect(line('svc-fifo-dockerfile')).toContain('Dockerfile (not a regular file)');
    expect(line('svc-bomb')).toContain('"base" inflates to more than 64 MiB');
    expect(line('svc-bad-name')).toMatch(/updated|renamed/);
    expect(line('svc-deep')).toContain('1 stays deleted');
    expect(line('svc-newline')).toContain('READ\\nME.md');
    expect(line('svc-stray-lock')).not.toContain('uncommitted');
    expect(line('svc-plain')).toContain('1 updated');
    expect(run.exitCode).toBe(1);
    expect(run.stdout).not.toContain('unexpected error');
    expect(run.stderr).not.toContain('unexpected error');
  }, RUN_LIMIT_MS + 10_000);

  it('upgrade of a FIFO manifest alone: one line naming it, no hang', async () => {
    const run = await execa('node', [cliPath, 'upgrade', 'svc-fifo-manifest', '--yes'], { cwd: parent, reject: false, timeout: 30_000 });
    expect(run.timedOut).toBe(false);
    expect(run.stderr.trim()).toMatch(/^create-hardened-service: .*svc-fifo-manifest\/\.hardened-service\.json is a FIFO, not a file/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('check: ends, one line per service; the special files and the bomb fail by name', async () => {
    const run = await execa('node', [cliPath, 'check', 'svc-*'], { cwd: parent, reject: false, timeout: RUN_LIMIT_MS, env: await checkEnv() });
    expect(run.timedOut).toBe(false);
    const lines = serviceLines(run.stdout);
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(Object.keys(hostile).sort());
    const line = (name: string) => lines.find((l) => l.startsWith(`${name}:`))!;
    expect(line('svc-fifo-dockerfile')).toBe('svc-fifo-dockerfile: ERROR Dockerfile is a FIFO, not a file: it is not read; remove it or make it a file');
    expect(line('svc-fifo-template')).toContain('ERROR chart/templates/extra.yaml is a FIFO');
    expect(line('svc-fifo-values')).toContain('ERROR chart/values.yaml is a FIFO');
    expect(line('svc-fifo-manifest')).toContain('CHS-MANIFEST-001');
    expect(line('svc-bomb')).toContain('CHS-MANIFEST-001');
    expect(run.stdout).toMatch(/^10 services: \d+ passed, \d+ failed$/m);
    expect(run.exitCode).toBe(1);
  }, RUN_LIMIT_MS + 10_000);
});

/** Runs the CLI as a user the file modes apply to: root reads everything, so as root it drops to nobody. */
function unprivileged(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [cmd, ...rest] = [...asNobody, process.execPath, cliPath, ...args];
  return execa(cmd!, rest, { cwd, env: { ...env, HOME: cwd }, reject: false, timeout: 60_000 });
}

describe('files the run may not read: one line naming the path', () => {
  it('check on an unreadable chart/templates, upgrade --check on an unreadable README.md: exit 1, one line each', async () => {
    const root = await tempDir('chs-unreadable-');
    await chmod(root, 0o755);
    const checked = await older('unreadable-chart');
    const upgraded = await older('unreadable-readme');
    for (const dir of [checked, upgraded]) await execa('cp', ['-r', dir, root]);
    await chmod(join(root, 'unreadable-chart/chart/templates'), 0o000);
    await chmod(join(root, 'unreadable-readme/README.md'), 0o000);
    const check = await unprivileged(['check', 'unreadable-chart'], root, await checkEnv());
    expect(check.stderr.trim()).toBe('create-hardened-service: chart/templates: cannot read (EACCES)');
    expect(check.exitCode).toBe(1);
    // --check: reads everything an upgrade reads, takes no lock (nobody may not write the folder).
    const upgrade = await unprivileged(['upgrade', 'unreadable-readme', '--check'], root);
    expect(upgrade.stderr.trim()).toBe('create-hardened-service: README.md: cannot read (EACCES): nothing written');
    expect(upgrade.exitCode).toBe(1);
  });
});
