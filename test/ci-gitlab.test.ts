import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatorVersion } from '../lib/package-root.js';
import { nodeLine, versions } from '../lib/versions.js';
import { renderText } from './support/ci-workflows.js';

interface GitlabJob {
  stage: string;
  image?: string | { name: string; entrypoint?: string[] };
  script: string[];
  timeout?: string;
  needs?: string[];
  rules?: { if: string }[];
  allow_failure?: boolean;
}

async function gitlab(given: Record<string, string> = {}) {
  const files = await renderText({ ci: 'gitlab', ...given });
  const text = files.get('.gitlab-ci.yml')!;
  const doc = parse(text, { merge: true }) as Record<string, unknown>;
  const jobs = Object.fromEntries(
    Object.entries(doc).filter(([k, v]) => !k.startsWith('.') && v && typeof v === 'object' && 'script' in (v as object)),
  ) as Record<string, GitlabJob>;
  return { files, text, doc, jobs };
}

const imageOf = (job: GitlabJob) => (typeof job.image === 'string' ? job.image : job.image?.name ?? '');

describe('GitLab CI (--ci gitlab)', () => {
  it('emits .gitlab-ci.yml and no GitHub workflows', async () => {
    const { files } = await gitlab();
    expect(files.has('.gitlab-ci.yml')).toBe(true);
    expect([...files.keys()].filter((p) => p.startsWith('.github/'))).toEqual([]);
  });

  it('parses, and has the same stages and scanners as the GitHub variant', async () => {
    const { doc, jobs, text } = await gitlab();
    expect(doc.stages).toEqual(['test', 'scan', 'build', 'publish', 'upgrade']);
    for (const job of [
      'test',
      'check',
      'chart-render',
      'trivy-dependencies',
      'trivy-config',
      'gitleaks',
      'hadolint',
      'kubeconform',
      'kube-linter',
      'image-build',
      'image-scan',
      'image-push',
      'image-verify',
      'image-sign',
    ]) {
      expect(jobs[job], job).toBeDefined();
      expect((doc.stages as string[]).includes(jobs[job]!.stage), job).toBe(true);
      expect(jobs[job]!.timeout, job).toMatch(/^\d+m$/);
    }
    const scripts = Object.values(jobs).flatMap((j) => j.script).join('\n');
    for (const needle of [
      'npm ci --ignore-scripts',
      'npm audit signatures',
      'npm run typecheck',
      'npm test',
      'npm run build',
      'trivy fs',
      'trivy config',
      '--severity HIGH,CRITICAL --ignore-unfixed --exit-code 1',
      'gitleaks git',
      'hadolint --failure-threshold warning Dockerfile',
      'helm lint --strict chart',
      'helm template my-svc chart --namespace my-svc',
      'kubeconform -strict',
      'kube-linter lint rendered/',
      'push-by-digest=true',
      'cosign sign --yes',
      'cosign attest --yes --type cyclonedx',
      `npx --yes create-hardened-service@${generatorVersion} check . --format sarif --output hardened-service.sarif`,
    ]) {
      expect(scripts, needle).toContain(needle);
    }
    expect(text).toContain('template: Jobs/SAST.gitlab-ci.yml');
    // The conformance gate fails the pipeline (check ships with this generator).
    expect(jobs.check!.allow_failure).toBeUndefined();
  });

  it('publishes only from the default branch or a v* tag, and signs with a Sigstore OIDC token', async () => {
    const { jobs, doc } = await gitlab();
    for (const job of ['image-push', 'image-verify', 'image-sign']) {
      expect(jobs[job]!.rules!.map((r) => r.if).sort(), job).toEqual(['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', '$CI_COMMIT_TAG =~ /^v/']);
    }
    expect((doc['image-sign'] as { id_tokens: unknown }).id_tokens).toEqual({ SIGSTORE_ID_TOKEN: { aud: 'sigstore' } });
    expect((doc.variables as Record<string, string>).IMAGE).toBe('ghcr.io/platform/my-svc');
  });

  it('pins every image: by digest where a public digest was sourced, else by an exact version tag', async () => {
    const { jobs, doc } = await gitlab();
    const vars = doc.variables as Record<string, string>;
    const line = nodeLine(versions.node.defaultMajor);
    expect(vars.NODE_IMAGE).toBe(`${line.build.image}:${line.build.tag}@${line.build.digest}`);
    for (const [id, job] of Object.entries(jobs)) {
      const image = imageOf(job).replace('$NODE_IMAGE', vars.NODE_IMAGE ?? '');
      expect(image, id).not.toMatch(/:latest\b/);
      expect(image, id).toMatch(/@sha256:[0-9a-f]{64}$|:v?\d+\.\d+\.\d+(-[a-z]+)?$/);
    }
    expect(imageOf(jobs['image-build']!)).toMatch(/^moby\/buildkit:buildx-stable-1@sha256:[0-9a-f]{64}$/);
  });

  it('expands no user value into a script: the image name reaches jobs as a quoted variable', async () => {
    const { jobs, doc } = await gitlab({ image: 'registry.example.com:5000/team/orders-api' });
    expect((doc.variables as Record<string, string>).IMAGE).toBe('registry.example.com:5000/team/orders-api');
    const scripts = Object.values(jobs).flatMap((j) => j.script).join('\n');
    expect(scripts).not.toContain('registry.example.com');
  });
});

describe('GitLab generator upgrade jobs', () => {
  it('run only in a schedule that asks for them; the push token is confined to the job that does not run the generator', async () => {
    const { doc, jobs, text } = await gitlab();
    expect(doc.stages).toContain('upgrade');
    const upgrade = jobs['generator-upgrade']!;
    const mergeRequest = jobs['generator-upgrade-merge-request'] as GitlabJob & { environment?: string };
    for (const job of [upgrade, mergeRequest]) {
      expect(job.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule" && $GENERATOR_UPGRADE == "true"' }]);
      expect(imageOf(job)).toBe('$NODE_IMAGE');
    }
    expect(upgrade.script.join('\n')).toContain('npx --yes create-hardened-service@latest upgrade . --yes');
    expect(upgrade.script.join('\n')).not.toContain('UPGRADE_TOKEN');
    expect(mergeRequest.environment).toBe('generator-upgrade');
    expect(mergeRequest.needs).toEqual(['generator-upgrade']);
    expect(mergeRequest.script.join('\n')).not.toContain('npx');
    expect(text.match(/UPGRADE_TOKEN/g)?.length).toBeGreaterThan(0);
  });
});
