import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseWorkflow } from './support/ci-workflows.js';
import { repoRoot, tempDir } from './support/cli.js';

/**
 * The release's publish step (scripts/release/publish.sh) runs here for real (bash, npm) against a registry on
 * loopback: the first publish of the name with the bootstrap token, the refusal to publish without one, and
 * the refusal to keep using it once the package exists. Provenance itself needs GitHub's OIDC token and
 * Sigstore, which this machine cannot reach: what the registry compares is held to package.json below.
 */
const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  repository?: { type: string; url: string };
  homepage?: string;
  bugs?: { url: string };
};
const ciFacts = JSON.parse(await readFile(join(repoRoot, 'data', 'ci-facts.json'), 'utf8')) as { npmProvenance: { statementRepository: string; source: string } };

/** The repository npm's provenance statement names, as the registry compares package.json with it. */
function provenanceRepository(url: string | undefined): string | undefined {
  return url?.replace(/^git\+/, '').replace(/\.git$/, '');
}
const githubRepository = provenanceRepository(pkg.repository?.url)?.replace(/^https:\/\/github\.com\//, '');

describe('package.json names the repository the release publishes from', () => {
  it('repository.url is that GitHub repository, as npm provenance compares it (E422 otherwise)', () => {
    expect(ciFacts.npmProvenance.statementRepository).toBe('${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}');
    expect(ciFacts.npmProvenance.source).toMatch(/^npm\/cli@[0-9a-f]{40}:workspaces\/libnpmpublish\/lib\/provenance\.js/);
    expect(pkg.repository?.type).toBe('git');
    expect(githubRepository, 'repository.url is https://github.com/<owner>/<repo> (git+ and .git allowed)').toMatch(/^[\w.-]+\/[\w.-]+$/);
  });

  it('homepage and bugs point into the same repository', () => {
    expect(pkg.homepage).toBe(`https://github.com/${githubRepository}#readme`);
    expect(pkg.bugs?.url).toBe(`https://github.com/${githubRepository}/issues`);
  });
});

// ---- a registry on loopback that knows nothing until something is published to it ----

let server: Server;
let registry: string;
let published: { authorization?: string; versions: string[] } | undefined;
/** Authorization headers of the lookups (GET), in order. */
let lookups: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = `/${pkg.name}`;
    if (req.method === 'GET') lookups.push(req.headers.authorization);
    if (req.method === 'GET' && req.url === path && published) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: pkg.name, 'dist-tags': { latest: published.versions[0] }, versions: Object.fromEntries(published.versions.map((v) => [v, { name: pkg.name, version: v }])) }));
    } else if (req.method === 'PUT' && req.url === path) {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        published = { authorization: req.headers.authorization, versions: Object.keys((JSON.parse(body) as { versions: object }).versions) };
        res.statusCode = 201;
        res.end('{}');
      });
    } else {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  published = undefined;
  lookups = [];
});

/** A tarball with this package's name, version and repository (what publish.sh reads of it). */
async function tarball(repository = pkg.repository): Promise<string> {
  const dir = await tempDir('chs-release-');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, repository }));
  const { stdout } = await execa('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: dir, env: { npm_config_cache: join(dir, '.npm-cache') } });
  return join(dir, stdout.trim());
}

/** publish.sh as the publish job runs it: setup-node's .npmrc reads NODE_AUTH_TOKEN; nothing else of the user's. */
async function publish(file: string, env: Record<string, string> = {}) {
  const home = await tempDir('chs-publisher-');
  // setup-node writes its .npmrc into RUNNER_TEMP, not the working directory, and points NPM_CONFIG_USERCONFIG at
  // it (actions/setup-node@820762786026740c76f36085b0efc47a31fe5020:src/authutil.ts).
  const runnerTemp = join(home, 'runner-temp');
  const work = join(home, 'work');
  await mkdir(runnerTemp);
  await mkdir(work);
  const host = registry.replace(/^http:/, '');
  await writeFile(join(runnerTemp, '.npmrc'), `${host}:_authToken=\${NODE_AUTH_TOKEN}\n`);
  return execa('bash', [join(repoRoot, 'scripts', 'release', 'publish.sh'), file], {
    cwd: work,
    extendEnv: false,
    reject: false,
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: home,
      RUNNER_TEMP: runnerTemp,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: githubRepository!,
      npm_config_registry: registry,
      npm_config_userconfig: join(runnerTemp, '.npmrc'),
      npm_config_cache: join(home, '.npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fetch_retries: '0',
      ...env,
    },
  });
}

describe('the first publish, then trusted publishing (scripts/release/publish.sh)', () => {
  it('an empty name: without the bootstrap token it fails with one line that names the secret', async () => {
    const result = await publish(await tarball());
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `${pkg.name} is not on npm yet and trusted publishing can only be configured for a package that exists: set the npm environment's secret NPM_TOKEN for this first publish (CONTRIBUTING.md: The first release)`,
    );
    expect(published).toBeUndefined();
  });

  it('an empty name: with the bootstrap token it publishes with that token and says what to do next', async () => {
    const result = await publish(await tarball(), { NPM_BOOTSTRAP_TOKEN: 'npm_bootstrap-token-for-the-test' });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(published).toEqual({ authorization: 'Bearer npm_bootstrap-token-for-the-test', versions: [pkg.version] });
    expect(result.stdout).toContain('::notice::first publish of create-hardened-service with the bootstrap token; now configure trusted publishing');
    // The lookup that found the name free went without any credential.
    expect(lookups[0]).toBeUndefined();
  });

  it('a published name: it refuses the token, so that it cannot outlive the first publish', async () => {
    published = { versions: ['0.1.0'] };
    const result = await publish(await tarball(), { NPM_BOOTSTRAP_TOKEN: 'npm_bootstrap-token-for-the-test' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^create-hardened-service is on npm already: it publishes through trusted publishing now; delete the npm environment's secret NPM_TOKEN/);
    expect(published).toEqual({ versions: ['0.1.0'] });
  });

  it('a published name without a token: npm publishes with no stored credential (trusted publishing gives it one in CI)', async () => {
    published = { versions: ['0.0.1'] };
    const result = await publish(await tarball());
    // This registry takes any upload: what matters is that no credential went with it (the .npmrc's variable
    // is unset, so npm sends it unexpanded).
    expect(result.exitCode, result.stderr).toBe(0);
    expect(published).toEqual({ authorization: 'Bearer ${NODE_AUTH_TOKEN}', versions: [pkg.version] });
  });

  it('a repository.url the provenance would not match: one line before anything is signed or sent', async () => {
    const result = await publish(await tarball({ type: 'git', url: 'git+https://github.com/someone-else/fork.git' }), { NPM_BOOTSTRAP_TOKEN: 't' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `package.json repository.url is "git+https://github.com/someone-else/fork.git": npm rejects a provenance publish from https://github.com/${githubRepository} unless it names that repository (npm pkg set repository.url=git+https://github.com/${githubRepository}.git)`,
    );
    expect(published).toBeUndefined();
  });
});

describe('release.yml publishes through that script, with provenance', () => {
  it('the publish job holds an OIDC token, the npm environment and the bootstrap secret, and runs publish.sh --provenance', async () => {
    const release = parseWorkflow(await readFile(join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8'));
    const job = release.jobs.publish! as { environment?: string; permissions?: Record<string, string> };
    expect(job.environment).toBe('npm');
    expect(job.permissions).toEqual({ 'id-token': 'write' });
    const step = release.jobs.publish!.steps!.find((s) => s.run?.includes('publish.sh'))!;
    expect(step.env).toEqual({ NPM_BOOTSTRAP_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    expect(step.run).toMatch(/^\s*bash scripts\/release\/publish\.sh package\/\*\.tgz --provenance$/m);
  });

  it('CONTRIBUTING.md walks from an empty npm name to trusted publishing with the names the workflow uses', async () => {
    const contributing = await readFile(join(repoRoot, 'CONTRIBUTING.md'), 'utf8');
    const section = contributing.slice(contributing.indexOf('## The first release'));
    expect(section.length, 'CONTRIBUTING.md has "## The first release"').toBeLessThan(contributing.length);
    for (const words of ['NPM_TOKEN', 'environment `npm`', 'release.yml', 'Trusted publishing', 'npm pkg set repository.url', 'v0.1.0', 'revoke', 'disallow tokens', '--provenance'])
      expect(section, words).toContain(words);
  });
});
