import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templatesRoot } from '../core/package-root.js';
import { parseGitlab, scriptLines } from './support/ci-facts.js';
import { parseWorkflow, renderText } from './support/ci-workflows.js';
import { tempDir } from './support/cli.js';

/**
 * The emitted check and upgrade steps install the generator from npm themselves. They run here for real
 * (bash, npm) against a registry on loopback that serves one version of a stand-in package, whose bin
 * prints how it was called.
 */
const PUBLISHED = '9.9.9';
let server: Server;
let registry: string;
let packumentStatus = 200;

beforeAll(async () => {
  const pkg = await tempDir('chs-pkg-');
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'create-hardened-service', version: PUBLISHED, bin: { 'create-hardened-service': 'cli.js' } }));
  await writeFile(join(pkg, 'cli.js'), `#!/usr/bin/env node\nconsole.log('create-hardened-service ${PUBLISHED} ' + process.argv.slice(2).join(' ') + (process.env.CREATE_HARDENED_SERVICE_PRESET ? ' with preset ' + process.env.CREATE_HARDENED_SERVICE_PRESET : ''));\n`);
  const { stdout } = await execa('npm', ['pack', '--silent', '--pack-destination', pkg], { cwd: pkg, env: npmEnv('http://127.0.0.1:9/', pkg) });
  const tarball = await readFile(join(pkg, stdout.trim()));
  server = createServer((req, res) => {
    if (req.url === '/create-hardened-service' && packumentStatus === 200) {
      const dist = {
        tarball: `${registry}create-hardened-service/-/create-hardened-service-${PUBLISHED}.tgz`,
        integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
        shasum: createHash('sha1').update(tarball).digest('hex'),
      };
      const version = { name: 'create-hardened-service', version: PUBLISHED, bin: { 'create-hardened-service': 'cli.js' }, dist };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'create-hardened-service', 'dist-tags': { latest: PUBLISHED }, versions: { [PUBLISHED]: version } }));
    } else if (req.url === `/create-hardened-service/-/create-hardened-service-${PUBLISHED}.tgz`) {
      res.end(tarball);
    } else {
      res.statusCode = 404;
      res.end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** npm and node of this test run, only the loopback registry, and nothing from the user's npm config. */
function npmEnv(registryUrl: string, home: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    npm_config_registry: registryUrl,
    npm_config_cache: join(home, '.npm-cache'),
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_update_notifier: 'false',
    npm_config_fetch_retries: '0',
  };
}

/** Runs one emitted `run:` step with bash, as GitHub does, in a service directory. */
async function runStep(script: string, dir: string, extraEnv: Record<string, string> = {}) {
  return execa('bash', ['-e', '-c', script], { cwd: dir, env: { ...npmEnv(registry, dir), ...extraEnv }, extendEnv: false, reject: false });
}

async function serviceDir(recordedVersion: string): Promise<string> {
  const dir = await tempDir('chs-svc-');
  await writeFile(join(dir, '.hardened-service.json'), JSON.stringify({ generator: { name: 'create-hardened-service', version: recordedVersion } }));
  return dir;
}

async function githubStep(workflow: string, job: string, name: RegExp): Promise<string> {
  const wf = parseWorkflow((await renderText()).get(`.github/workflows/${workflow}`)!);
  return wf.jobs[job]!.steps!.find((s) => name.test(s.name ?? ''))!.run!;
}

describe('check runs the generator version recorded in .hardened-service.json', () => {
  it('installs exactly that version and runs its check', async () => {
    const result = await runStep(await githubStep('ci.yml', 'check', /^create-hardened-service check/), await serviceDir(PUBLISHED));
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`create-hardened-service ${PUBLISHED} check . --format sarif --output hardened-service.sarif`);
  });

  it('fails with one line naming the package and version when npm cannot install it', async () => {
    const result = await runStep(await githubStep('ci.yml', 'check', /^create-hardened-service check/), await serviceDir('0.0.1'));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^cannot install create-hardened-service@0\.0\.1 from the npm registry \(code ETARGET\)$/);
  });
});

describe("check enforces the organisation's preset package when the platform team pins one", () => {
  it('installs the package the variable names and hands its folder to check (CREATE_HARDENED_SERVICE_PRESET)', async () => {
    const pkg = await tempDir('chs-org-preset-');
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/hardened-preset', version: '1.4.0', 'create-hardened-service-preset': 'preset.yaml' }));
    await writeFile(join(pkg, 'preset.yaml'), 'name: acme\n');
    const step = await githubStep('ci.yml', 'check', /^create-hardened-service check/);
    const result = await runStep(step, await serviceDir(PUBLISHED), { CREATE_HARDENED_SERVICE_PRESET_PACKAGE: pkg });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^create-hardened-service 9\.9\.9 check \. --format sarif --output hardened-service\.sarif with preset \/.+\/node_modules\/@acme\/hardened-preset$/);
  });

  it('fails with one line naming the package when npm cannot install it', async () => {
    const step = await githubStep('ci.yml', 'check', /^create-hardened-service check/);
    const result = await runStep(step, await serviceDir(PUBLISHED), { CREATE_HARDENED_SERVICE_PRESET_PACKAGE: '@acme/no-such-preset@1.0.0' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe("cannot install the organisation's preset @acme/no-such-preset@1.0.0 from the npm registry");
  });

  it("GitLab's check job runs the same lines", async () => {
    const partial = (await readFile(join(templatesRoot, '_partials', 'org-preset.hbs'), 'utf8')).trim().split('\n');
    const { jobs } = parseGitlab((await renderText({ ci: 'gitlab' })).get('.gitlab-ci.yml')!);
    const lines = scriptLines(jobs.check!).join('\n').split('\n').map((l) => l.trim());
    for (const line of partial) expect(lines).toContain(line.trim());
  });
});

describe('upgrade runs the newest generator', () => {
  async function upgradeStep(dir: string) {
    await execa('git', ['init', '-q'], { cwd: dir });
    const runnerTemp = await tempDir('chs-runner-');
    const output = join(runnerTemp, 'output');
    await writeFile(output, '');
    const result = await runStep(await githubStep('upgrade.yml', 'upgrade', /^Run create-hardened-service upgrade/), dir, { RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: output });
    return { result, output: await readFile(output, 'utf8') };
  }

  it('resolves latest, installs it and hands its report on', async () => {
    packumentStatus = 200;
    const { result, output } = await upgradeStep(await serviceDir('0.0.1'));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(output).toContain(`create-hardened-service ${PUBLISHED} upgrade . --yes`);
  });

  it('fails with one line naming the package when npm cannot resolve it', async () => {
    packumentStatus = 404;
    try {
      const { result } = await upgradeStep(await serviceDir('0.0.1'));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe('cannot resolve create-hardened-service@latest from the npm registry');
    } finally {
      packumentStatus = 200;
    }
  });
});

it('GitLab\'s check and generator-upgrade jobs install the generator with the same lines', async () => {
  const partial = (await readFile(join(templatesRoot, '_partials', 'install-generator.hbs'), 'utf8')).trim().split('\n');
  const { jobs } = parseGitlab((await renderText({ ci: 'gitlab' })).get('.gitlab-ci.yml')!);
  for (const id of ['check', 'generator-upgrade']) {
    const lines = scriptLines(jobs[id]!).join('\n').split('\n').map((l) => l.trim());
    for (const line of partial) expect(lines, `${id}: ${line}`).toContain(line.trim());
  }
  expect(scriptLines(jobs.check!).join('\n')).toContain('version="$(node -p \'require("./.hardened-service.json").generator.version\')"');
  expect(scriptLines(jobs['generator-upgrade']!).join('\n')).toContain('npm view create-hardened-service@latest version');
});
