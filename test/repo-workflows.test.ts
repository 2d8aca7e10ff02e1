import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { versions } from '../core/versions.js';
import { canaryPins, ciFacts, githubBlocks } from './support/ci-facts.js';
import { parseWorkflow, runActionlint, usesLines } from './support/ci-workflows.js';
import { repoRoot } from './support/cli.js';
import { shellcheck } from './support/shellcheck.js';

// This repository's own workflows (ci, canary, release) are held to the rules the emitted ones are: SHA pins
// from data/versions.json with exact version comments, inputs the pinned actions have, least privilege,
// timeouts, concurrency, actionlint and shellcheck clean.

const workflowsDir = join(repoRoot, '.github', 'workflows');
const canaryScripts = join(repoRoot, 'scripts', 'canary');

async function repoWorkflows(): Promise<Map<string, string>> {
  const names = (await readdir(workflowsDir)).filter((n) => n.endsWith('.yml')).sort();
  return new Map(await Promise.all(names.map(async (n) => [`.github/workflows/${n}`, await readFile(join(workflowsDir, n), 'utf8')] as [string, string])));
}

/** Jobs allowed write permissions, and which: only the two release jobs that publish. */
const allowedWrites: Record<string, Record<string, string[]>> = {
  'release.yml': { publish: ['id-token'], 'github-release': ['contents'] },
};

describe("this repository's own workflows", () => {
  it('are ci, canary and release', async () => {
    expect([...(await repoWorkflows()).keys()]).toEqual(['.github/workflows/canary.yml', '.github/workflows/ci.yml', '.github/workflows/release.yml']);
  });

  it('pass actionlint with zero findings', async () => {
    for (const [path, text] of await repoWorkflows()) expect(await runActionlint(text, path), path).toEqual([]);
  });

  it('pin every action to the SHA in data/versions.json with its exact version, and give only inputs it has', async () => {
    for (const [path, text] of await repoWorkflows()) {
      for (const use of usesLines(text)) {
        if (/uses:\s*\.\//.test(use.line)) continue; // a workflow of this repository
        const repo = use.action.split('/').slice(0, 2).join('/');
        const pin = versions.actions[repo];
        expect(pin, `${path}: ${repo} is not in data/versions.json`).toBeDefined();
        expect(use.ref, `${path}: ${use.line}`).toBe(pin!.sha);
        expect(use.comment, `${path}: ${use.line}`).toBe(pin!.version);
      }
      for (const [id, job] of Object.entries(parseWorkflow(text).jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses) continue;
          const facts = ciFacts.actions[step.uses.split('@')[0]!];
          expect(facts, `${path} job ${id}: ${step.uses} has no inputs in data/ci-facts.json`).toBeDefined();
          for (const input of Object.keys(step.with ?? {})) {
            expect(facts!.inputs, `${path} job ${id}: ${input}`).toContain(input);
            expect(facts!.deprecated?.[input], `${path} job ${id}: ${input} is deprecated`).toBeUndefined();
          }
        }
      }
    }
  });

  it('are read-only but for the publishing jobs, with timeouts, a concurrency group and no expression in a script', async () => {
    for (const [path, text] of await repoWorkflows()) {
      const file = path.split('/').pop()!;
      const wf = parseWorkflow(text);
      expect(Object.keys(wf.on), path).not.toContain('pull_request_target');
      expect(wf.permissions, path).toEqual({ contents: 'read' });
      expect(typeof wf.concurrency === 'object' && wf.concurrency.group, path).toMatch(/\$\{\{ github\.ref \}\}/);
      for (const [id, job] of Object.entries(wf.jobs)) {
        const where = `${path} job ${id}`;
        const calls = (job as { uses?: string }).uses;
        if (calls === undefined) {
          expect(job['timeout-minutes'], where).toBeGreaterThan(0);
          expect(job['timeout-minutes'], where).toBeLessThanOrEqual(60);
        }
        const writes = Object.entries((job.permissions ?? {}) as Record<string, string>)
          .filter(([, level]) => level === 'write')
          .map(([scope]) => scope);
        expect(writes, where).toEqual(allowedWrites[file]?.[id] ?? []);
        for (const step of job.steps ?? []) {
          if (step.run !== undefined) expect(step.run, `${where}: run`).not.toContain('${{');
          if (step.uses?.startsWith('actions/checkout@')) expect(step.with?.['persist-credentials'], where).toBe(false);
        }
      }
    }
  });

  it('release publishes only after ci and canary pass on the tagged commit', async () => {
    const release = parseWorkflow((await repoWorkflows()).get('.github/workflows/release.yml')!);
    expect(Object.keys(release.on)).toEqual(['push']);
    const jobs = release.jobs as Record<string, { uses?: string; needs?: string[] }>;
    expect(jobs.ci!.uses).toBe('./.github/workflows/ci.yml');
    expect(jobs.canary!.uses).toBe('./.github/workflows/canary.yml');
    expect(jobs.build!.needs).toEqual(['ci', 'canary']);
    expect(jobs.publish!.needs).toEqual(['build']);
    expect(jobs['github-release']!.needs).toEqual(['publish']);
    const publish = release.jobs.publish!.steps!.map((s) => s.run ?? '').join('\n');
    expect(publish).toMatch(/bash scripts\/release\/publish\.sh package\/\*\.tgz --provenance$/m);
  });

  it('ci runs the README test command through .ci/run on every Node line the generator supports', async () => {
    const ci = parseWorkflow((await repoWorkflows()).get('.github/workflows/ci.yml')!);
    const test = ci.jobs.test as { strategy: { matrix: { node: number[] } }; steps: { run?: string }[] };
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    const oldest = Number(/>=(\d+)/.exec(pkg.engines.node)![1]);
    const lines = versions.node.lines.map((l) => l.major);
    expect(test.strategy.matrix.node).toEqual([...new Set([oldest, 22, ...lines])].sort((a, b) => a - b));
    expect(test.steps.some((s) => /bash \.ci\/run$/.test(s.run ?? ''))).toBe(true);
  });

  it('shellcheck is clean on every run: block and every canary, release and other script', async () => {
    for (const block of githubBlocks(await repoWorkflows())) expect(await shellcheck(block.script, 'bash'), block.where).toBe('');
    for (const dir of [canaryScripts, join(repoRoot, 'scripts', 'release'), join(repoRoot, 'scripts')]) {
      for (const name of (await readdir(dir)).filter((n) => n.endsWith('.sh'))) {
        expect(await shellcheck(await readFile(join(dir, name), 'utf8'), 'bash'), name).toBe('');
        expect((await execa('bash', ['-n', join(dir, name)], { reject: false })).exitCode, name).toBe(0);
      }
    }
  });
});

describe('the canary cannot drift from the emitted pipelines', () => {
  async function canaryText(): Promise<string> {
    const scripts = await readdir(canaryScripts);
    const texts = await Promise.all(scripts.map((n) => readFile(join(canaryScripts, n), 'utf8')));
    return [(await repoWorkflows()).get('.github/workflows/canary.yml')!, ...texts].join('\n');
  }

  it('invokes no scanner itself: the scanners run inside the emitted pipelines it runs', async () => {
    const text = await canaryText();
    for (const scanner of ['trivy', 'hadolint', 'kubeconform', 'kube-linter', 'gitleaks', 'cosign'])
      expect(text, scanner).not.toMatch(new RegExp(`^\\s*(?:[\\w=]+\\s+)*${scanner}\\s`, 'm'));
    expect(text).toContain("--list-json");
    expect(text).toMatch(/gitlab-ci-local@\$\{versions\.canary\.gitlabCiLocal\.version\}/);
  });

  it('retypes no version: helm, kind, the node image and gitlab-ci-local come from data/', async () => {
    const text = await canaryText();
    const pinned = [
      ciFacts.releases.helm!.version,
      canaryPins.kind.version,
      canaryPins.kindNodeImage.tag,
      canaryPins.kindNodeImage.digest,
      canaryPins.gitlabCiLocal.version,
      versions.kubernetes.minor,
    ];
    for (const value of pinned) expect(text, value).not.toContain(value);
    expect(canaryPins.kindNodeImage.tag.startsWith(`v${versions.kubernetes.minor}.`), 'the kind node image is the pinned Kubernetes minor').toBe(true);
  });

  it('installs what the data says, checked against the release checksums', async () => {
    for (const release of [ciFacts.releases.helm!, canaryPins.kind]) {
      expect(release.asset).toContain(release.version);
      expect(release.checksum).toEqual({ url: `${release.asset}.sha256sum`, format: 'sha256sum' });
    }
    expect(canaryPins.kind.source).toMatch(/^kubernetes-sigs\/kind@[0-9a-f]{40}:/);
  });
});
