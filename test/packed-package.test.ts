import { execa } from 'execa';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatorVersion } from '../core/package-root.js';
import { checkEnv } from './support/check.js';
import { repoRoot, tempDir } from './support/cli.js';

// What a user's first command runs: `npx create-hardened-service` and `npm create hardened-service` both
// resolve to `npm exec --package=<the published tarball> create-hardened-service`. This packs the
// repository as `npm publish` would and runs that tarball the same way, offline: the published package has
// no runtime dependencies, so nothing may need the registry.
describe('the packed package, run as npx runs it', () => {
  let work: string;
  let tarball: string;
  /** npm with its own empty cache: proves the tarball installs without anything the repository has. */
  let npmEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await tempDir('chs-packed-');
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', work], { cwd: repoRoot });
    const [entry] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, entry!.filename);
    npmEnv = { ...(await checkEnv()), CI: 'true', npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' };
  });

  it('holds the bundle and data, and no sources, tests or templates (the build compiled them into the bundle)', async () => {
    const { stdout } = await execa('tar', ['-tzf', tarball]);
    const paths = stdout.split('\n').map((p) => p.replace(/^package\//, ''));
    for (const needed of ['bin/create-hardened-service.js', 'dist/cli.js', 'data/versions.json', 'LICENSE', 'README.md']) expect(paths).toContain(needed);
    expect(paths.filter((p) => /^(core|lib|generators|templates|test|scripts|bench)\//.test(p) || p.endsWith('.ts'))).toEqual([]);
  });

  it('installs with production dependencies only and no network, then generates a service that passes check', async () => {
    const prefix = join(work, 'prefix');
    await execa('npm', ['install', '--prefix', prefix, '--omit=dev', '--offline', '--no-audit', '--no-fund', tarball], { env: npmEnv });
    const installed = (await readdir(join(prefix, 'node_modules'))).filter((n) => !n.startsWith('.'));
    expect(installed).toEqual(['create-hardened-service']);

    const cwd = await tempDir('chs-packed-run-');
    const exec = (args: string[]) =>
      // --yes: what a person confirms at npx's "Ok to proceed?" prompt.
      execa('npm', ['exec', '--yes', '--offline', `--package=${tarball}`, '--', 'create-hardened-service', ...args], { cwd, env: npmEnv, reject: false, stdin: 'ignore' });

    const version = await exec(['--version']);
    expect(version.stdout.trim()).toBe(generatorVersion);

    const created = await exec(['my-svc', '--yes']);
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(join(cwd, 'my-svc', '.hardened-service.json'), 'utf8')) as { generator: { version: string } };
    expect(manifest.generator.version).toBe(generatorVersion);

    const checked = await exec(['check', 'my-svc', '--format', 'json']);
    expect(checked.exitCode, checked.stderr).toBe(0);
    const report = JSON.parse(checked.stdout) as { summary: { failed: number } };
    expect(report.summary.failed).toBe(0);
  });
});
