import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciFacts } from './support/ci-facts.js';
import { parseWorkflow, renderText, workflowFiles, type Step } from './support/ci-workflows.js';
import { repoRoot } from './support/cli.js';
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

describe("this repository's workflows as a graph", () => {
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
