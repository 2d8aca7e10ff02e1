import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBase, MANIFEST_PATH, type Manifest } from '../lib/manifest.js';
import { MARKERS } from '../lib/upgrade/conflict-markers.js';
import { listTree, runCli, tempDir } from './support/cli.js';
import { edit, generate as generateAs, replaceOnce, rewindToOlderGenerator } from './support/older-service.js';

/** Every scenario's service has the same answers as the fresh one, whatever its directory. */
const generate = (parent: string, dir: string, flags: string[] = []) => generateAs(parent, dir, ['--name', 'svc', ...flags]);

/** What the older templates rendered, for the files these scenarios use (the current ones are in templates/). */
const HEALTHCHECK = /# No curl in the image[\s\S]*?\n(?=# Exec form)/;
const olderDockerfile = (t: string) => replaceOnce(t, 'USER 65532:65532', 'USER nonroot').replace(HEALTHCHECK, '');
const olderReadme = (t: string) => replaceOnce(t, '## Build the image', '## Container image');

let parent: string;
/** The current generator's output for the same answers: what an untouched service must become. */
let fresh: Map<string, Buffer>;

beforeAll(async () => {
  parent = await tempDir();
  const dir = await generate(parent, 'fresh');
  fresh = new Map();
  for (const path of await listTree(dir)) if (path !== MANIFEST_PATH) fresh.set(path, await readFile(join(dir, path)));
});

async function upgrade(dir: string, ...flags: string[]) {
  return runCli(['upgrade', dir, '--yes', ...flags], { cwd: parent });
}

async function treeOf(dir: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  for (const path of await listTree(dir)) if (path !== MANIFEST_PATH) tree.set(path, await readFile(join(dir, path), 'utf8'));
  return tree;
}

const freshText = (path: string) => fresh.get(path)!.toString('utf8');
const asFresh = () => new Map([...fresh].map(([p, b]) => [p, b.toString('utf8')]));

async function manifestOf(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
}

/** Every line the team wrote is still in the file, in the clear or inside a conflict block. */
function expectTeamLines(text: string, teamLines: string[]) {
  for (const line of teamLines) expect(text.split(/\r?\n/)).toContain(line);
}

describe('upgrade scenarios (service made by an older generator → this one)', () => {
  it('untouched service: becomes exactly what this generator emits', async () => {
    const dir = await generate(parent, 'untouched');
    await rewindToOlderGenerator(dir, (tree) => {
      tree.set('Dockerfile', Buffer.from(olderDockerfile(tree.get('Dockerfile')!.toString())));
      tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString())));
    });
    const result = await upgrade(dir);
    expect(result.stdout).toContain('untouched: 2 updated (0.0.9 → 0.1.0)');
    expect(result.exitCode).toBe(0);
    expect(await treeOf(dir)).toEqual(asFresh());
    const manifest = await manifestOf(dir);
    expect(decodeBase(manifest)).toEqual(fresh);
    expect((await upgrade(dir, '--check')).exitCode).toBe(0);
  });

  it('team edit in a file the template also changed, elsewhere: clean merge keeps both', async () => {
    const dir = await generate(parent, 'clean-merge');
    await rewindToOlderGenerator(dir, (tree) => tree.set('Dockerfile', Buffer.from(olderDockerfile(tree.get('Dockerfile')!.toString()))));
    const team = '# team: our proxy settings';
    await edit(dir, 'Dockerfile', (t) => replaceOnce(t, 'WORKDIR /app\nENV npm_config', `WORKDIR /app\n${team}\nENV npm_config`));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('clean-merge: 1 merged (0.0.9 → 0.1.0)');
    const expected = asFresh();
    expected.set('Dockerfile', replaceOnce(freshText('Dockerfile'), 'WORKDIR /app\nENV npm_config', `WORKDIR /app\n${team}\nENV npm_config`));
    expect(await treeOf(dir)).toEqual(expected);
  });

  it('the HTTP layer: a service whose team edited src/http-server.ts gets the new layer merged in, its edit kept', async () => {
    const dir = await generate(parent, 'http-layer');
    const added = ['src/pipeline.ts', 'src/probe-server.ts', 'src/side-listener.ts', 'test/early-answers.test.ts', 'test/pipelining.test.ts', 'test/probe-listener.test.ts'];
    // Before issue 23: no Connection: close on early answers, no pipelining gate, no probe listener.
    const earlyAnswers = /\/\*\*\n \* An answer that starts before its request's body[\s\S]*?\n}\n\n/;
    const olderHttpServer = (t: string) =>
      replaceOnce(t, '    if (connection && hasBody(req)) closeIfAnsweredEarly(req, res, socket, connection);\n', '').replace(earlyAnswers, '');
    await rewindToOlderGenerator(dir, (tree) => {
      for (const path of added) tree.delete(path);
      tree.set('src/http-server.ts', Buffer.from(olderHttpServer(tree.get('src/http-server.ts')!.toString())));
    });
    const team = '// team: our upstream sends at most 1 MiB';
    const anchor = 'const DRAIN_CHECK_INTERVAL_MS = 250;\n';
    await edit(dir, 'src/http-server.ts', (t) => replaceOnce(t, anchor, `${anchor}${team}\n`));
    const result = await upgrade(dir);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const tree = await treeOf(dir);
    expect(tree.get('src/http-server.ts')).toBe(replaceOnce(freshText('src/http-server.ts'), anchor, `${anchor}${team}\n`));
    for (const path of added) expect(tree.get(path), path).toBe(freshText(path));
  });

  it('the same line changed on both sides: inline conflict markers, listed, exit 1', async () => {
    const dir = await generate(parent, 'conflict');
    await rewindToOlderGenerator(dir, (tree) => tree.set('Dockerfile', Buffer.from(olderDockerfile(tree.get('Dockerfile')!.toString()))));
    await edit(dir, 'Dockerfile', (t) => replaceOnce(t, 'USER nonroot', 'USER 10001'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('conflict: 1 CONFLICT (0.0.9 → 0.1.0); resolve conflicts in: Dockerfile');
    const dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8');
    const block = `${MARKERS.ours}\nUSER 10001\n${MARKERS.base}\nUSER nonroot\n${MARKERS.sep}\nUSER 65532:65532\n${MARKERS.theirs}\n`;
    // The non-conflicting template change (HEALTHCHECK) is merged; only the USER line conflicts.
    expect(dockerfile).toBe(replaceOnce(freshText('Dockerfile'), 'USER 65532:65532\n', block));
    expectTeamLines(dockerfile, ['USER 10001']);
    // Until the team resolves it, the service is behind, and a later upgrade merges nothing into the file.
    const behind = await upgrade(dir, '--check');
    expect(behind.exitCode).toBe(1);
    expect(behind.stdout).toContain('conflict: behind (generated by 0.1.0, this is 0.1.0; upgrade would: 1 CONFLICT (unresolved since the last upgrade: kept yours); unresolved conflicts in: Dockerfile)');
    const again = await upgrade(dir);
    expect(again.exitCode).toBe(1);
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toBe(dockerfile);
    // The conflicted file is recorded against the new render: after the team resolves it, the service is current.
    await edit(dir, 'Dockerfile', (t) => t.replace(block, 'USER 10001\n'));
    const resolved = await upgrade(dir, '--check');
    expect(resolved.stdout).toContain('conflict: current (0.1.0)');
    expect(resolved.exitCode).toBe(0);
  });

  it('a binary file kept as a conflict keeps the service behind until the team changes it', async () => {
    const dir = await generate(parent, 'binary');
    await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]);
    await writeFile(join(dir, 'README.md'), binary);
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('binary: 1 CONFLICT (binary: kept yours) (0.0.9 → 0.1.0); resolve conflicts in: README.md');
    expect((await readFile(join(dir, 'README.md'))).equals(binary)).toBe(true);
    const check = await upgrade(dir, '--check');
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toContain('unresolved conflicts in: README.md');
    await writeFile(join(dir, 'README.md'), freshText('README.md'));
    expect((await upgrade(dir, '--check')).exitCode).toBe(0);
  });

  it("a Latin-1 file is merged as text and stays Latin-1; the service is then current", async () => {
    const dir = await generate(parent, 'latin1');
    await rewindToOlderGenerator(dir, (tree) => tree.set('Dockerfile', Buffer.from(olderDockerfile(tree.get('Dockerfile')!.toString()))));
    const team = '# Zuständig: Team Süd (Grüße)';
    const withTeamLine = (t: string) => replaceOnce(t, 'WORKDIR /app\nENV npm_config', `WORKDIR /app\n${team}\nENV npm_config`);
    await writeFile(join(dir, 'Dockerfile'), Buffer.from(withTeamLine(await readFile(join(dir, 'Dockerfile'), 'utf8')), 'latin1'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('latin1: 1 merged (0.0.9 → 0.1.0)');
    expect((await readFile(join(dir, 'Dockerfile'))).equals(Buffer.from(withTeamLine(freshText('Dockerfile')), 'latin1'))).toBe(true);
    expect((await upgrade(dir, '--check')).exitCode).toBe(0);
  });

  it('a file the team deleted stays deleted, now and in later upgrades', async () => {
    const dir = await generate(parent, 'deleted');
    await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    await rm(join(dir, 'README.md'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('deleted: 1 stays deleted (0.0.9 → 0.1.0)');
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
    expect((await manifestOf(dir)).deleted).toEqual(['README.md']);
    const again = await upgrade(dir);
    expect(again.stdout).toContain('deleted: 1 stays deleted (0.1.0)');
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
    const expected = asFresh();
    expected.delete('README.md');
    expect(await treeOf(dir)).toEqual(expected);
  });

  it('renamed and dropped template files: new ones added, old ones removed unless the team changed them', async () => {
    const dir = await generate(parent, 'renamed');
    await rewindToOlderGenerator(dir, (tree) => {
      // The older templates wrote the namespace under another name and had a file that is gone now.
      tree.set('deploy/ns.yaml', tree.get('deploy/namespace.yaml')!);
      tree.delete('deploy/namespace.yaml');
      tree.set('docs/RUNBOOK.md', Buffer.from('# Runbook\n\nTODO\n'));
      tree.set('docs/OLD.md', Buffer.from('# Old\n'));
    });
    await edit(dir, 'docs/RUNBOOK.md', (t) => `${t}Restart with kubectl rollout restart.\n`);
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('renamed: 1 added, 2 removed, 1 kept (no longer generated) (0.0.9 → 0.1.0); no longer generated, kept because you changed them: docs/RUNBOOK.md');
    const expected = asFresh();
    expected.set('docs/RUNBOOK.md', '# Runbook\n\nTODO\nRestart with kubectl rollout restart.\n');
    expect(await treeOf(dir)).toEqual(expected);
    expect(Object.keys((await manifestOf(dir)).files)).not.toContain('docs/RUNBOOK.md');
  });

  it('a lockfile the team committed where the older generator wrote none: kept byte for byte, never wrapped in markers', async () => {
    const dir = await generate(parent, 'team-lockfile');
    await rewindToOlderGenerator(dir, (tree) => tree.delete('package-lock.json'));
    const teamLock = `${JSON.stringify({ name: 'svc', lockfileVersion: 3, requires: true, packages: { '': { name: 'svc' } } }, null, 2)}\n`;
    await writeFile(join(dir, 'package-lock.json'), teamLock);
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('team-lockfile: 1 kept your lockfile (run npm install) (0.0.9 → 0.1.0)');
    expect(await readFile(join(dir, 'package-lock.json'), 'utf8')).toBe(teamLock);
  });

  it("a file the team renamed gets the template's change (the older import is gone), and the rename is remembered", async () => {
    const dir = await generate(parent, 'renamed-by-team');
    // The older templates imported a package in src/config.ts that the new package.json no longer has.
    await rewindToOlderGenerator(dir, (tree) => {
      tree.set('src/config.ts', Buffer.from(`import 'dotenv/config';\n${tree.get('src/config.ts')!.toString()}`));
      const pkg = JSON.parse(tree.get('package.json')!.toString()) as { dependencies: Record<string, string> };
      pkg.dependencies.dotenv = '16.4.5';
      tree.set('package.json', Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`));
    });
    const team = '// Team: settings, read once at start-up.';
    await writeFile(join(dir, 'src/settings.ts'), `${await readFile(join(dir, 'src/config.ts'), 'utf8')}${team}\n`);
    await rm(join(dir, 'src/config.ts'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('renamed-by-team: 1 updated, 1 merged (0.0.9 → 0.1.0); renamed by you: src/config.ts → src/settings.ts');
    expect(await readFile(join(dir, 'src/settings.ts'), 'utf8')).toBe(`${freshText('src/config.ts')}${team}\n`);
    expect(existsSync(join(dir, 'src/config.ts'))).toBe(false);
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toBe(freshText('package.json'));
    expect((await manifestOf(dir)).renamed).toEqual({ 'src/config.ts': 'src/settings.ts' });
    expect((await manifestOf(dir)).deleted).toEqual([]);
    const check = await upgrade(dir, '--check');
    expect(check.stdout).toContain('renamed-by-team: current (0.1.0)');
  });

  it('when it cannot tell where a changed file went, upgrade reports a conflict until the team names it', async () => {
    const dir = await generate(parent, 'rename-unsure');
    await rewindToOlderGenerator(dir, (tree) => tree.set('src/config.ts', Buffer.from(`import 'dotenv/config';\n${tree.get('src/config.ts')!.toString()}`)));
    const older = await readFile(join(dir, 'src/config.ts'), 'utf8');
    await writeFile(join(dir, 'src/settings.ts'), older);
    await writeFile(join(dir, 'src/settings-v2.ts'), older.replace('export', '// v2\nexport'));
    await rm(join(dir, 'src/config.ts'));
    const before = await treeOf(dir);
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      'rename-unsure: 1 CONFLICT (deleted or renamed? the template changed it) (0.0.9 → 0.1.0); resolve conflicts in: src/config.ts (renamed to src/settings.ts or src/settings-v2.ts? name it under "renamed" in .hardened-service.json, or under "deleted")',
    );
    expect(await treeOf(dir)).toEqual(before);
    expect((await upgrade(dir, '--check')).exitCode).toBe(1);
    // The team says which file it is.
    const manifest = await manifestOf(dir);
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify({ ...manifest, renamed: { 'src/config.ts': 'src/settings-v2.ts' } }));
    const named = await upgrade(dir);
    expect(named.exitCode).toBe(0);
    expect(named.stdout).toContain('renamed by you: src/config.ts → src/settings-v2.ts');
    expect(await readFile(join(dir, 'src/settings-v2.ts'), 'utf8')).not.toContain('dotenv');
    expect((await upgrade(dir, '--check')).exitCode).toBe(0);
  });

  it('an option added since the service was made: --yes takes its default and records it', async () => {
    const dir = await generate(parent, 'new-option', ['--description', 'Orders']);
    await rewindToOlderGenerator(
      dir,
      () => {},
      (manifest) => {
        delete (manifest.answers as Partial<typeof manifest.answers>).owner;
      },
    );
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    const manifest = await manifestOf(dir);
    expect(manifest.answers.owner).toBe('platform');
    expect(manifest.answers.description).toBe('Orders');
  });

  it('a service made before --database and --rate-limit-store: upgrade records `none` and `memory` and adds no file of theirs', async () => {
    const dir = await generate(parent, 'before-backing');
    await rewindToOlderGenerator(
      dir,
      () => {},
      (manifest) => {
        const answers = manifest.answers as Partial<typeof manifest.answers>;
        delete answers.database;
        delete answers.rateLimitStore;
      },
    );
    const result = await upgrade(dir);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await manifestOf(dir)).answers).toMatchObject({ database: 'none', rateLimitStore: 'memory' });
    const tree = (await listTree(dir)).filter((p) => p !== MANIFEST_PATH);
    expect(tree.sort()).toEqual([...fresh.keys()].sort());
    for (const path of ['src/database.ts', 'src/shared-rate-limiter.ts', 'migrations/0001_create_greetings.sql']) expect(existsSync(join(dir, path))).toBe(false);
  });

  it('a service made before --platforms and --base, its amd64-only pipeline edited by the team: upgrade brings the arm64 build and keeps the edit', async () => {
    const dir = await generate(parent, 'before-multi-arch', ['--platforms', 'linux/amd64']);
    await rewindToOlderGenerator(
      dir,
      () => {},
      (manifest) => {
        const answers = manifest.answers as Partial<typeof manifest.answers>;
        delete answers.platforms;
        delete answers.base;
      },
    );
    const workflow = '.github/workflows/container.yml';
    expect(await readFile(join(dir, workflow), 'utf8')).not.toContain('linux/arm64');
    const teamLine = '    timeout-minutes: 12 # our hadolint needs longer';
    await edit(dir, workflow, (t) => replaceOnce(t, "    runs-on: ubuntu-24.04\n    timeout-minutes: 10\n    permissions:\n      contents: read\n      actions: read", `    runs-on: ubuntu-24.04\n${teamLine}\n    permissions:\n      contents: read\n      actions: read`));
    const result = await upgrade(dir);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await manifestOf(dir)).answers).toMatchObject({ platforms: 'linux/amd64,linux/arm64', base: 'distroless' });
    const merged = await readFile(join(dir, workflow), 'utf8');
    expect(merged).toContain('          - platform: linux/arm64\n            runner: ubuntu-24.04-arm\n');
    expectTeamLines(merged, [teamLine]);
    expect(merged).not.toContain(MARKERS.ours);
    // Only the platforms changed: the Dockerfile and chart are what they were.
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toBe(freshText('Dockerfile'));
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe(freshText('README.md'));
  });

  it('a flag changes a recorded answer on upgrade (moving to another port)', async () => {
    const dir = await generate(parent, 'port-move');
    const result = await upgrade(dir, '--port', '9090');
    expect(result.exitCode).toBe(0);
    expect((await manifestOf(dir)).answers.port).toBe(9090);
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toContain('EXPOSE 9090');
  });

  it('CRLF files: the team switched a file to CRLF and edited it; the merge keeps CRLF and both changes', async () => {
    const dir = await generate(parent, 'crlf');
    await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    const team = 'Team note: on-call is #orders-oncall.';
    await edit(dir, 'README.md', (t) => `${t}\n${team}\n`.replace(/\n/g, '\r\n'));
    const result = await upgrade(dir);
    expect(result.exitCode).toBe(0);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toBe(`${freshText('README.md')}\n${team}\n`.replace(/\n/g, '\r\n'));
  });

  it('refuses a git work tree with uncommitted changes unless --allow-dirty', async () => {
    const dir = await generate(parent, 'dirty', ['--git']);
    await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    const refused = await upgrade(dir);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^create-hardened-service: dirty has uncommitted changes \(.*README\.md.*\): commit or stash them first/);
    expect(refused.stderr.trim()).toContain('): commit or stash them first (or pass --allow-dirty), so the upgrade can be reviewed and undone with git');
    expect((await upgrade(dir, '--allow-dirty')).exitCode).toBe(0);
  });

  it('--dry-run prints the summary and unified diffs, and writes nothing', async () => {
    const dir = await generate(parent, 'dry');
    await rewindToOlderGenerator(dir, (tree) => tree.set('Dockerfile', Buffer.from(olderDockerfile(tree.get('Dockerfile')!.toString()))));
    const before = await treeOf(dir);
    const manifestBefore = await readFile(join(dir, MANIFEST_PATH));
    const result = await upgrade(dir, '--dry-run');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('dry: dry run, would apply: 1 updated (0.0.9 → 0.1.0); nothing written');
    expect(result.stdout).toContain('--- a/Dockerfile');
    expect(result.stdout).toContain('-USER nonroot\n+USER 65532:65532');
    expect(await treeOf(dir)).toEqual(before);
    expect((await readFile(join(dir, MANIFEST_PATH))).equals(manifestBefore)).toBe(true);
  });

  it('a fleet in one call: a line per service, --check exits 1 when any is behind', async () => {
    const fleet = join(parent, 'fleet');
    await mkdir(fleet);
    const a = await generate(fleet, 'svc-a');
    await generate(fleet, 'svc-b');
    await rewindToOlderGenerator(a, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    const check = await runCli(['upgrade', 'fleet/*', '--check'], { cwd: parent });
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toContain('fleet/svc-a: behind (generated by 0.0.9');
    expect(check.stdout).toContain('fleet/svc-b: current (0.1.0)');
    const run = await runCli(['upgrade', 'fleet/svc-a', 'fleet/svc-b', '--yes'], { cwd: parent });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('fleet/svc-a: 1 updated (0.0.9 → 0.1.0)');
    expect(run.stdout).toContain('fleet/svc-b: nothing to change (0.1.0)');
    expect(run.stdout).toContain('2 services');
  });

  it('a fleet larger than the services upgraded at once: its report in the order given, each service once, one failing does not stop the others', async () => {
    const fleet = join(parent, 'big-fleet');
    await mkdir(fleet);
    const names = Array.from({ length: 12 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      const dir = await generate(fleet, name);
      if (name !== 'svc-05') await rewindToOlderGenerator(dir, (tree) => tree.set('README.md', Buffer.from(olderReadme(tree.get('README.md')!.toString()))));
    }
    await rm(join(fleet, 'svc-07', MANIFEST_PATH));
    const copy = join(parent, 'big-fleet-copy');
    await cp(fleet, copy, { recursive: true });
    const lines = (prefix: string) => names.filter((n) => n !== 'svc-07').map((n) => (n === 'svc-05' ? `${prefix}/${n}: nothing to change (0.1.0)` : `${prefix}/${n}: 1 updated (0.0.9 → 0.1.0)`));
    // Worker threads, one per core (12 services are enough for two); then the main thread alone on the copy.
    const run = await runCli(['upgrade', ...names.map((n) => `big-fleet/${n}`), 'big-fleet/svc-03', '--yes'], { cwd: parent });
    // A mixed fleet: one service could not be upgraded, the others were: exit 1 (2 only for a wrong command).
    expect(run.exitCode).toBe(1);
    const threads = Math.min(availableParallelism(), 3);
    expect(run.stdout.trim().split('\n')).toEqual([...lines('big-fleet'), threads > 1 ? `12 services (${threads} worker threads)` : '12 services']);
    expect(run.stderr.trim()).toMatch(/^big-fleet\/svc-07: .*has no \.hardened-service\.json/);
    const alone = await runCli(['upgrade', ...names.map((n) => `big-fleet-copy/${n}`), '--yes'], { cwd: parent, env: { CREATE_HARDENED_SERVICE_THREADS: '1' } });
    expect(alone.exitCode).toBe(1);
    expect(alone.stdout.trim().split('\n')).toEqual([...lines('big-fleet-copy'), '12 services']);
    for (const name of names) expect(await treeOf(join(copy, name))).toEqual(await treeOf(join(fleet, name)));
  });

  it('a directory without a manifest is refused with the reason', async () => {
    const dir = join(parent, 'plain');
    await writeFile(join(parent, 'plain-file'), '');
    const result = await runCli(['upgrade', dir], { cwd: parent });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('has no .hardened-service.json: it was not generated by create-hardened-service');
  });
});
