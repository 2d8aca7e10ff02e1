import { execa } from 'execa';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciFacts, parseGitlab, scriptLines } from './support/ci-facts.js';
import { parseWorkflow, renderText, workflowFiles, type Step } from './support/ci-workflows.js';
import { repoRoot, tempDir } from './support/cli.js';
import {
  bashGlobTests,
  callProblems,
  contextNames,
  effectivePermissions,
  grants,
  namesOfJob,
  reusableCalls,
  type WorkflowFiles,
} from './support/workflow-graph.js';

// The workflows read as a graph, this repository's and the emitted ones: what a reusable workflow uses is
// passed to it, a job name a script waits for is the name GitHub displays, a step's token has the permission
// its action or command needs, and the settings and secrets a job needs are named where a maintainer reads.

async function repoWorkflows(): Promise<WorkflowFiles> {
  const dir = join(repoRoot, '.github', 'workflows');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yml')).sort();
  return new Map(await Promise.all(names.map(async (n) => [`.github/workflows/${n}`, await readFile(join(dir, n), 'utf8')] as [string, string])));
}
async function emittedWorkflows(given: Parameters<typeof renderText>[0] = {}): Promise<WorkflowFiles> {
  return new Map(workflowFiles(await renderText(given)));
}
/** The GitHub variants whose workflow graphs differ. */
const githubVariants = [{}, { database: 'postgres', rateLimitStore: 'redis' }, { image: 'registry.example.com/acme/orders' }];

type PermissionNeed = { uses?: string; with?: Record<string, unknown>; run?: string; needs: Record<string, string>; source: string };
const permissionNeeds = (ciFacts as unknown as { permissionNeeds: { steps: PermissionNeed[] } }).permissionNeeds.steps;

function needsOf(step: Step): PermissionNeed[] {
  return permissionNeeds.filter((n) => {
    if (n.uses) {
      if (step.uses?.split('@')[0] !== n.uses) return false;
      return Object.entries(n.with ?? {}).every(([k, v]) => step.with?.[k] === v);
    }
    return step.run !== undefined && new RegExp(n.run!).test(step.run);
  });
}

function permissionProblems(files: WorkflowFiles): string[] {
  const problems: string[] = [];
  for (const [path, text] of files) {
    const wf = parseWorkflow(text);
    for (const [id, job] of Object.entries(wf.jobs)) {
      const granted = effectivePermissions(wf, job);
      for (const step of job.steps ?? []) {
        for (const need of needsOf(step)) {
          for (const [scope, level] of Object.entries(need.needs)) {
            if (!grants(granted, scope, level)) problems.push(`${path} job ${id} step ${step.name ?? step.uses}: needs ${scope}: ${level} (${need.source})`);
          }
        }
      }
    }
  }
  return problems;
}

/** `needs:` that name no job of the workflow (GitHub refuses the whole workflow then). */
function needsProblems(files: WorkflowFiles): string[] {
  const problems: string[] = [];
  for (const [path, text] of files) {
    const jobs = parseWorkflow(text).jobs;
    for (const [id, job] of Object.entries(jobs)) {
      for (const need of [job.needs ?? []].flat()) if (!(need in jobs)) problems.push(`${path} job ${id} needs ${need}, which is not a job here`);
    }
  }
  return problems;
}

describe("this repository's workflows as a graph", () => {
  it('every job another job waits for exists', async () => {
    expect(needsProblems(await repoWorkflows())).toEqual([]);
  });

  it('every reusable workflow call passes the secrets and inputs the callee uses and grants its permissions', async () => {
    const files = await repoWorkflows();
    const calls = reusableCalls(files);
    expect(calls.map((c) => `${c.caller}:${c.job}`)).toEqual(['.github/workflows/release.yml:ci', '.github/workflows/release.yml:canary']);
    expect(calls.flatMap((c) => callProblems(files, c))).toEqual([]);
  });

  it('every step has the permissions its action or command needs where it runs', async () => {
    expect(permissionProblems(await repoWorkflows())).toEqual([]);
  });

  it('every secret, variable and environment the workflows use is named in CONTRIBUTING.md', async () => {
    const contributing = await readFile(join(repoRoot, 'CONTRIBUTING.md'), 'utf8');
    for (const [path, text] of await repoWorkflows()) {
      for (const name of [...contextNames(text, 'secrets'), ...contextNames(text, 'vars')].filter((n) => n !== 'GITHUB_TOKEN'))
        expect(contributing, `${path}: ${name}`).toContain(`\`${name}\``);
      for (const job of Object.values(parseWorkflow(text).jobs)) {
        const environment = (job as { environment?: string }).environment;
        if (environment) expect(contributing, `${path}: environment ${environment}`).toContain(`environment \`${environment}\``);
      }
    }
  });
});

describe('the canary reads the runs of an emitted service as GitHub displays them', () => {
  const script = join(repoRoot, 'scripts', 'canary', 'run-github-workflows.sh');

  it('tolerates the pre-release check failure under every name the check job is displayed with, and no other job', async () => {
    const text = await readFile(script, 'utf8');
    const files = await emittedWorkflows();
    const checkNames = namesOfJob(files, '.github/workflows/ci.yml', 'check');
    expect(checkNames.sort()).toEqual(['Hardened-service conformance', 'ci / Hardened-service conformance']);
    const globs = bashGlobTests(text, 'job');
    expect(globs.length, 'the script tests $job against the check job\'s names').toBeGreaterThan(0);
    for (const { glob, regex } of globs) expect(checkNames.some((n) => regex.test(n)), `${glob} matches no displayed name of the check job`).toBe(true);
    for (const name of checkNames) expect(globs.some((g) => g.regex.test(name)), `${name} is not tolerated`).toBe(true);
    const others = [...files.keys()].flatMap((wf) => Object.keys(parseWorkflow(files.get(wf)!).jobs).filter((j) => !(wf.endsWith('/ci.yml') && j === 'check')).flatMap((j) => namesOfJob(files, wf, j)));
    for (const name of others) expect(globs.some((g) => g.regex.test(name)), `${name} must not be tolerated`).toBe(false);
  });

  it('its wait ends once every run of the commit has completed', async () => {
    const text = await readFile(script, 'utf8');
    const loop = text.slice(text.indexOf('for _ in $(seq'), text.indexOf('done', text.indexOf('for _ in $(seq')));
    const jq = /--json databaseId,status --jq '([^']+)'/.exec(loop)?.[1];
    expect(jq, 'the wait asks gh for the runs\' status with --jq').toBeDefined();
    const read = loop.split('\n').find((l) => l.includes('read -r'))!.trim();
    // The jq (gh runs it as gojq; the expression is plain jq) and the script's own parsing, for two runs.
    const judge = async (runs: object[]) => {
      const { stdout } = await execa('bash', ['-c', `runs=$(jq -r "$JQ" <<<"$RUNS")\n${read}\necho "$pending $total"`], {
        env: { JQ: jq!, RUNS: JSON.stringify(runs) },
      });
      return stdout;
    };
    expect(await judge([{ databaseId: 1, status: 'completed' }, { databaseId: 2, status: 'in_progress' }])).toBe('1 2');
    expect(await judge([{ databaseId: 1, status: 'completed' }, { databaseId: 2, status: 'completed' }])).toBe('0 2');
    expect(loop).toMatch(/if \[ "\$\{total:-0\}" -gt 0 \] && \[ "\$\{pending:-1\}" -eq 0 \]; then break; fi/);
  });
});

describe('emitted workflows as a graph', () => {
  it('every job another job waits for exists', async () => {
    for (const given of githubVariants) expect(needsProblems(await emittedWorkflows(given)), JSON.stringify(given)).toEqual([]);
  });

  it('every reusable workflow call passes what the callee uses and grants its permissions', async () => {
    for (const given of githubVariants) {
      const files = await emittedWorkflows(given);
      expect(reusableCalls(files).length).toBeGreaterThan(0);
      expect(reusableCalls(files).flatMap((c) => callProblems(files, c)), JSON.stringify(given)).toEqual([]);
    }
  });

  it('every step has the permissions its action or command needs where it runs', async () => {
    for (const given of githubVariants) expect(permissionProblems(await emittedWorkflows(given)), JSON.stringify(given)).toEqual([]);
  });
});

type Setting = { setting: string; where: string; neededBy: string; refusal: string; alternative: string[]; source: string };
const settings = (ciFacts as unknown as { repositorySettings: { github: Setting[] } }).repositorySettings.github;

describe('repository settings the emitted jobs need', () => {
  /** Steps whose command a setting gates, when they may run with the workflow's own token. */
  async function gatedSteps() {
    const files = await renderText();
    const found: { path: string; step: Step; setting: Setting; header: string }[] = [];
    for (const [path, text] of workflowFiles(files)) {
      const header = text.slice(0, text.search(/^name:/m));
      for (const job of Object.values(parseWorkflow(text).jobs)) {
        for (const step of job.steps ?? []) {
          if (!String(step.env?.GH_TOKEN ?? '').includes('github.token')) continue;
          for (const setting of settings) if (step.run && new RegExp(setting.neededBy).test(step.run)) found.push({ path, step, setting, header });
        }
      }
    }
    return { files, found };
  }

  it('are named, with what else works, in the README and the workflow header', async () => {
    const { files, found } = await gatedSteps();
    expect(found.map((f) => `${f.path}: ${f.setting.neededBy}`).sort()).toEqual(['.github/workflows/upgrade.yml: gh pr create', '.github/workflows/upgrade.yml: git .*push ']);
    const readme = files.get('README.md')!.replace(/\s+/g, ' ');
    for (const { setting, header, path } of found) {
      const words = [setting.setting, ...setting.alternative];
      if (setting.where.startsWith('Settings')) words.push(setting.where);
      for (const w of words) {
        expect(readme, `README: ${w}`).toContain(w);
        expect(header.replace(/\s*#\s*/g, ' '), `${path} header: ${w}`).toContain(w);
      }
      expect(setting.source).toMatch(/\S/);
    }
  });

  describe('the upgrade pull request step answers a refusal with one line naming the fix', () => {
    async function runPullRequestStep(origin: { refusePush?: string }, ghRefusal?: string) {
      const files = await renderText();
      const step = parseWorkflow(files.get('.github/workflows/upgrade.yml')!).jobs['pull-request']!.steps!.find((s) => s.run?.includes('gh pr create'))!;
      const work = await tempDir('chs-upgrade-pr-');
      const git = (args: string[], cwd = work) => execa('git', args, { cwd, env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
      // The service's repository, with a bare origin whose pre-receive hook answers as GitHub does.
      await git(['init', '-q', '--bare', 'origin.git']);
      if (origin.refusePush) {
        await writeFile(join(work, 'origin.git', 'hooks', 'pre-receive'), `#!/bin/sh\necho '${origin.refusePush}' >&2\nexit 1\n`, { mode: 0o755 });
      }
      await git(['init', '-q', '-b', 'main', 'svc']);
      const svc = join(work, 'svc');
      await writeFile(join(svc, 'README.md'), 'old\n');
      await git(['add', '.'], svc);
      await git(['commit', '-q', '-m', 'init'], svc);
      await git(['remote', 'add', 'origin', join(work, 'origin.git')], svc);
      await writeFile(join(svc, 'README.md'), 'new\n');
      const patch = (await git(['diff', '--binary'], svc)).stdout + '\n';
      await git(['checkout', '--', '.'], svc);
      // gh is not installable here: a stand-in that lists no pull request and answers create as GitHub did.
      const bin = join(work, 'bin');
      await execa('mkdir', ['-p', bin]);
      await writeFile(
        join(bin, 'gh'),
        `#!/bin/sh\nif [ "$2" = list ]; then exit 0; fi\n${ghRefusal ? `echo "pull request create failed: GraphQL: ${ghRefusal}" >&2\nexit 1` : 'echo https://github.com/o/r/pull/1'}\n`,
        { mode: 0o755 },
      );
      return execa('bash', ['-e', '-c', step.run!], {
        cwd: svc,
        reject: false,
        env: { PATH: `${bin}:/usr/bin:/bin`, RUNNER_TEMP: work, GH_TOKEN: 'token', PATCH: Buffer.from(patch).toString('base64'), REPORT: 'report', HOME: work, GIT_AUTHOR_NAME: 't', GIT_COMMITTER_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_EMAIL: 't@example.com' },
      });
    }
    const setting = (neededBy: string) => settings.find((s) => s.neededBy === neededBy)!;

    it('the setting is off and no App is set: one line naming both', async () => {
      const result = await runPullRequestStep({}, `GitHub Actions is ${setting('gh pr create').refusal} (createPullRequest)`);
      expect(result.exitCode).toBe(1);
      expect(result.stdout.trim().split('\n').pop()).toBe(
        '::error::this token may not open pull requests: set the variable UPGRADE_APP_CLIENT_ID and the secret UPGRADE_APP_PRIVATE_KEY of a GitHub App, or turn on Settings > Actions > General > "Allow GitHub Actions to create and approve pull requests" (README: Generator upgrades)',
      );
    });

    it('an upgrade that changes a workflow, pushed with the workflow token: one line naming the App', async () => {
      const result = await runPullRequestStep({ refusePush: `! [remote rejected] (refusing to allow a GitHub App to create or update workflow \`.github/workflows/ci.yml\` ${setting('git .*push ').refusal})` });
      expect(result.exitCode).toBe(1);
      expect(result.stdout.trim().split('\n').pop()).toBe(
        '::error::this token may not push changes to .github/workflows/: set the variable UPGRADE_APP_CLIENT_ID and the secret UPGRADE_APP_PRIVATE_KEY of a GitHub App with Workflows write access (README: Generator upgrades)',
      );
    });

    it('any other failure shows what GitHub said', async () => {
      const result = await runPullRequestStep({}, 'Resource not accessible by integration');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('Resource not accessible by integration');
      expect(result.stdout).not.toContain('::error::');
    });

    it('with the setting or the App, it opens the pull request', async () => {
      const result = await runPullRequestStep({});
      expect(result.exitCode, result.stderr).toBe(0);
    });
  });
});

describe('a service generated with --yes publishes to its own repository\'s registry with the default token', () => {
  it('GitHub: every image reference of a publishing job is the name one step derives from the repository, lower-cased', async () => {
    const files = await emittedWorkflows();
    for (const path of ['.github/workflows/container.yml', '.github/workflows/rescan.yml']) {
      const text = files.get(path)!;
      expect(text, path).not.toMatch(/ghcr\.io\/platform\//);
      const job = Object.values(parseWorkflow(text).jobs).find((j) => j.steps?.some((s) => s.id === 'image'))!;
      const imageStep = job.steps!.find((s) => s.id === 'image')!;
      // Run it as GitHub does, for a repository whose name has capitals (GHCR names are lower-case).
      const runnerTemp = await tempDir('chs-image-step-');
      const output = join(runnerTemp, 'output');
      const env = join(runnerTemp, 'env');
      await writeFile(output, '');
      await writeFile(env, '');
      const result = await execa('bash', ['-e', '-c', imageStep.run!], { env: { GITHUB_REPOSITORY: 'Acme-Corp/Orders-API', GITHUB_OUTPUT: output, GITHUB_ENV: env, ...(imageStep.env as Record<string, string>) } });
      expect(result.exitCode).toBe(0);
      expect(await readFile(output, 'utf8')).toBe('name=ghcr.io/acme-corp/orders-api\n');
      expect(await readFile(env, 'utf8')).toBe('IMAGE=ghcr.io/acme-corp/orders-api\n');
      // Every later reference reads that name; the registry login is ghcr.io with this workflow's token.
      const later = JSON.stringify(job.steps!.slice(job.steps!.indexOf(imageStep) + 1));
      const refs = later.match(/(?:image-ref|subject-name|outputs)":"[^"]*/g) ?? [];
      expect(refs.length, path).toBeGreaterThan(0);
      for (const ref of refs) expect(ref, `${path}: ${ref}`).toMatch(/steps\.image\.outputs\.name|type=image,name=\$\{\{ steps\.image/);
      const login = job.steps!.find((s) => s.uses?.startsWith('docker/login-action@'))!;
      expect(login.with).toEqual({ registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' });
    }
    const publish = parseWorkflow(files.get('.github/workflows/container.yml')!).jobs.publish!;
    expect((publish.permissions as Record<string, string>).packages).toBe('write');
  });

  it('GitLab: IMAGE is $CI_REGISTRY_IMAGE, which the push job\'s guard accepts with the job token', async () => {
    const text = (await renderText({ ci: 'gitlab' })).get('.gitlab-ci.yml')!;
    const { doc, jobs } = parseGitlab(text);
    const variables = doc.variables as Record<string, string>;
    expect(variables.IMAGE).toBe('$CI_REGISTRY_IMAGE');
    expect(variables.REGISTRY).toBe('$CI_REGISTRY');
    // GitLab expands the variables before the job runs: here for a project at gitlab.com/acme/orders.
    const predefined = { CI_REGISTRY: 'registry.gitlab.com', CI_REGISTRY_IMAGE: 'registry.gitlab.com/acme/orders' };
    // Each platform's push job (--platforms) starts with the same guard.
    const guard = scriptLines(jobs['image-push-linux-amd64']!)[0]!;
    expect(scriptLines(jobs['image-push-linux-arm64']!)[0]).toBe(guard);
    const run = (vars: Record<string, string>) => execa('sh', ['-e', '-c', guard], { reject: false, env: { ...predefined, ...vars } });
    expect((await run({ IMAGE: predefined.CI_REGISTRY_IMAGE, REGISTRY: predefined.CI_REGISTRY })).exitCode).toBe(0);
    // What the old default did: a namespace the job token cannot write.
    const old = await run({ IMAGE: 'registry.gitlab.com/platform/orders', REGISTRY: 'registry.gitlab.com' });
    expect(old.exitCode).toBe(1);
    expect(old.stderr).toContain('the job token cannot push there');
  });

  it('a named image (a team\'s or a preset\'s org registry) is used as given everywhere', async () => {
    const github = await renderText({ image: 'ghcr.io/acme/orders' });
    const step = parseWorkflow(github.get('.github/workflows/container.yml')!).jobs.publish!.steps!.find((s) => s.id === 'image')!;
    expect(step.env).toEqual({ NAMED_IMAGE: 'ghcr.io/acme/orders' });
    expect(github.get('chart/values.yaml')).toContain('repository: "ghcr.io/acme/orders"');
    const gitlab = parseGitlab((await renderText({ ci: 'gitlab', image: 'registry.acme.example/team/orders' })).get('.gitlab-ci.yml')!);
    expect((gitlab.doc.variables as Record<string, string>).IMAGE).toBe('registry.acme.example/team/orders');
  });

  it('the chart has no default image.repository then: its README\'s install command sets it', async () => {
    const files = await renderText();
    expect(files.get('chart/values.yaml')).toMatch(/^ {2}repository: ""$/m);
    expect(files.get('chart/README.md')).toContain('--set image.repository=<image CI published>');
  });
});
