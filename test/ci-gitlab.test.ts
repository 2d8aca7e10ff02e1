import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/package-root.js';
import { nodeLine, versions } from '../core/versions.js';
import { type GitlabJob, imageOf, parseGitlab, scriptLines } from './support/ci-facts.js';
import { renderText } from './support/ci-workflows.js';

async function gitlab(given: Record<string, string> = {}) {
  const files = await renderText({ ci: 'gitlab', ...given });
  const text = files.get('.gitlab-ci.yml')!;
  return { files, text, ...parseGitlab(text) };
}

const script = (job: GitlabJob) => scriptLines(job).join('\n');
const PAIRS = ['linux-amd64', 'linux-arm64'];
const PUBLISH_PLATFORM_JOBS = PAIRS.flatMap((p) => [`image-push-${p}`, `image-verify-${p}`]);
const PLATFORM_JOBS = PAIRS.flatMap((p) => [`image-build-${p}`, `image-scan-${p}`]).concat(PUBLISH_PLATFORM_JOBS);

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
      'base-images',
      ...PLATFORM_JOBS,
      'image-index',
      'image-sign',
      'image-tag',
      'image-rescan',
    ]) {
      expect(jobs[job], job).toBeDefined();
      expect((doc.stages as string[]).includes(jobs[job]!.stage), job).toBe(true);
      expect(jobs[job]!.timeout, job).toMatch(/^\d+m$/);
    }
    const scripts = Object.values(jobs).map(script).join('\n');
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
      'kube-linter lint --config .kube-linter.yaml rendered/',
      'push-by-digest=true',
      'cosign sign --yes',
      'cosign attest --yes --type cyclonedx',
      'crane tag "${IMAGE}@${DIGEST}"',
      'crane index append',
      'create-hardened-service check . --format sarif --output hardened-service.sarif',
    ]) {
      expect(scripts, needle).toContain(needle);
    }
    expect(text).toContain('template: Jobs/SAST.gitlab-ci.yml');
    // The conformance gate fails the pipeline (check ships with this generator).
    expect(jobs.check!.allow_failure).toBeUndefined();
  });

  it('publishes only from the default branch or a v* tag, never from a schedule, after every test and scan; signs with a Sigstore OIDC token', async () => {
    const { jobs, doc } = await gitlab();
    for (const job of [...PUBLISH_PLATFORM_JOBS, 'image-index', 'image-sign', 'image-tag']) {
      expect(jobs[job]!.rules, job).toEqual([
        { if: '$CI_PIPELINE_SOURCE == "schedule"', when: 'never' },
        { if: '$CI_COMMIT_TAG =~ /^v/' },
        { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
      ]);
    }
    const unconditional = Object.entries(jobs).filter(([, j]) => !j.rules && j.stage !== 'publish').map(([id]) => id);
    for (const push of ['image-push-linux-amd64', 'image-push-linux-arm64']) {
      expect([...jobs[push]!.needs!].sort()).toEqual(unconditional.filter((id) => !id.startsWith('image-build-') && id !== 'chart-render').sort());
    }
    expect(jobs['image-tag']!.needs).toEqual(['image-index', 'image-sign']);
    expect((doc['image-sign'] as { id_tokens: unknown }).id_tokens).toEqual({ SIGSTORE_ID_TOKEN: { aud: 'sigstore' } });
  });

  it('publishes to GitLab\'s own registry by default, with the job\'s token; another registry needs its own credentials', async () => {
    const { jobs, doc } = await gitlab();
    const vars = doc.variables as Record<string, string>;
    // No image named: this project's registry, named at run time (core/image.ts).
    expect(vars.IMAGE).toBe('$CI_REGISTRY_IMAGE');
    expect(vars.REGISTRY).toBe('$CI_REGISTRY');
    const named = (await gitlab({ image: 'registry.gitlab.com/acme/orders' })).doc.variables as Record<string, string>;
    expect(named.IMAGE).toBe('registry.gitlab.com/acme/orders');
    expect(named.REGISTRY).toBe('registry.gitlab.com');
    const auth = (doc['.registry-auth'] as { script: string[] }).script.join('\n');
    expect(auth).toContain('if [ "$REGISTRY" = "$CI_REGISTRY" ]; then user="$CI_REGISTRY_USER"; pass="$CI_REGISTRY_PASSWORD"; else user="$REGISTRY_USERNAME"; pass="$REGISTRY_PASSWORD"; fi');
    for (const id of [...PUBLISH_PLATFORM_JOBS, 'image-index', 'image-sign', 'image-tag', 'image-rescan']) expect(script(jobs[id]!), id).toContain(auth);
    // The job token can push only to this project's registry: a clear line otherwise.
    expect(script(jobs['image-push-linux-amd64']!)).toContain("the job token cannot push there");
    const hub = (await gitlab({ image: 'acme/orders-api' })).doc.variables as Record<string, string>;
    expect(hub.REGISTRY).toBe('https://index.docker.io/v1/');
  });

  it('rescans the published image in every scheduled pipeline (SECURITY.md says weekly; the header says how)', async () => {
    const { jobs, text, files } = await gitlab();
    expect(jobs['image-rescan']!.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]);
    expect(script(jobs['image-rescan']!)).toContain('--severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 "${IMAGE}:${CI_DEFAULT_BRANCH}"');
    expect(text).toContain('# Schedules (CI/CD > Schedules, on the default branch): a weekly schedule rescans');
    expect(files.get('SECURITY.md')).toContain('A scheduled pipeline also rescans the published image');
  });

  it('pins every image: by digest where a public digest was sourced, else by an exact version tag', async () => {
    const { jobs, doc } = await gitlab();
    const vars = doc.variables as Record<string, string>;
    const line = nodeLine(versions.node.defaultMajor);
    expect(vars.NODE_IMAGE).toBe(`${line.build.image}:${line.build.tag}@${line.build.digest}`);
    for (const [id, job] of Object.entries(jobs)) {
      const image = imageOf(job, vars);
      expect(image, id).not.toMatch(/:latest\b/);
      expect(image, id).toMatch(/@sha256:[0-9a-f]{64}$|:v?\d+\.\d+\.\d+(-[a-z]+)?$/);
    }
    expect(imageOf(jobs['image-build-linux-arm64']!)).toMatch(/^moby\/buildkit:buildx-stable-1@sha256:[0-9a-f]{64}$/);
  });

  it('expands no user value into a script: the image name reaches jobs as a quoted variable', async () => {
    const { jobs, doc } = await gitlab({ image: 'registry.example.com:5000/team/orders-api' });
    expect((doc.variables as Record<string, string>).IMAGE).toBe('registry.example.com:5000/team/orders-api');
    const scripts = Object.values(jobs).map(script).join('\n');
    expect(scripts).not.toContain('registry.example.com');
  });
});

describe('GitLab generator upgrade jobs', () => {
  it('run only in a schedule that asks for them; the push token is confined to the job that does not run the generator', async () => {
    const { doc, jobs, text } = await gitlab();
    expect(doc.stages).toContain('upgrade');
    const upgrade = jobs['generator-upgrade']!;
    const mergeRequest = jobs['generator-upgrade-merge-request'] as GitlabJob & { environment?: string };
    const vars = doc.variables as Record<string, string>;
    for (const job of [upgrade, mergeRequest]) {
      expect(job.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule" && $GENERATOR_UPGRADE == "true"' }]);
      expect(imageOf(job, vars)).toBe(vars.NODE_IMAGE);
    }
    expect(script(upgrade)).toContain('npm view create-hardened-service@latest version');
    expect(script(upgrade)).toContain('create-hardened-service upgrade . --yes');
    expect(script(upgrade)).not.toContain('UPGRADE_TOKEN');
    expect(mergeRequest.environment).toBe('generator-upgrade');
    expect(mergeRequest.needs).toEqual(['generator-upgrade']);
    expect(script(mergeRequest)).not.toMatch(/\bnpx?\b/);
    expect(text.match(/UPGRADE_TOKEN/g)?.length).toBeGreaterThan(0);
  });
});

describe('GitLab multi-arch image and base images, held to data/ci-facts.json and data/base-images.json', () => {
  const facts = JSON.parse(readFileSync(join(packageRoot, 'data', 'ci-facts.json'), 'utf8')).multiArch.gitlab;
  const bases = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8'));

  it.each([
    ['linux/amd64,linux/arm64', ['linux/amd64', 'linux/arm64']],
    ['linux/amd64', ['linux/amd64']],
  ])('--platforms %s: each platform is built and pushed by digest on a runner of its architecture, and scanned', async (platforms, expected) => {
    const { jobs, doc } = await gitlab(platforms === 'linux/amd64,linux/arm64' ? {} : { platforms });
    const vars = doc.variables as Record<string, string>;
    const built = Object.keys(jobs).filter((id) => id.startsWith('image-build-'));
    expect(built).toEqual(expected.map((p) => `image-build-${p.replace('/', '-')}`));
    for (const platform of expected) {
      const pair = platform.replace('/', '-');
      const arch = platform.split('/')[1]!.toUpperCase();
      // GitLab.com's hosted runner of that architecture by default; a variable a self-managed instance sets.
      expect(vars[`RUNNER_TAG_${arch}`]).toBe(facts.runners[platform]);
      for (const id of [`image-build-${pair}`, `image-push-${pair}`]) {
        expect((jobs[id] as { tags?: string[] }).tags, id).toEqual([`$RUNNER_TAG_${arch}`]);
        expect(script(jobs[id]!), id).toContain(`--opt platform=${platform}`);
      }
      expect(jobs[`image-build-${pair}`]!.needs).toEqual(['base-images']);
      expect(script(jobs[`image-scan-${pair}`]!)).toContain(`trivy image --input image-${pair}.tar --ignorefile .trivyignore --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1`);
      expect(script(jobs[`image-verify-${pair}`]!)).toContain(`--severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 "\${IMAGE}@$DIGEST_${arch}"`);
      expect(script(jobs[`image-push-${pair}`]!)).toContain(`DIGEST_${arch}=`);
    }
    expect(Object.keys(vars).filter((v) => v.startsWith('RUNNER_TAG_'))).toHaveLength(expected.length);
    // The merge: crane index append with every platform digest, as upstream's command reads its flags.
    const index = script(jobs['image-index']!);
    const manifests = expected.map((p) => `-m "\${IMAGE}@$DIGEST_${p.split('/')[1]!.toUpperCase()}"`).join(' ');
    expect(index).toContain(`/ko-app/${facts.merge.command} ${manifests} -t "\${IMAGE}:sha-\${CI_COMMIT_SHA}"`);
    for (const flag of facts.merge.flags) expect(index).toContain(` ${flag} `);
    // The index digest is what is signed, and what is tagged.
    expect(script(jobs['image-sign']!)).toContain('/ko-app/cosign sign --yes --new-bundle-format=false --use-signing-config=false "${IMAGE}@${DIGEST}"');
    expect(jobs['image-sign']!.needs).toContain('image-index');
    expect(script(jobs['image-tag']!)).toContain('image.digest=${DIGEST}');
  });

  it('distroless: base-images verifies the runtime image keylessly with its published identity before any build', async () => {
    const { jobs, text } = await gitlab();
    const verify = script(jobs['base-images']!);
    expect(verify).toContain(`/ko-app/cosign verify --certificate-identity ${bases.distrolessVerify.identity} --certificate-oidc-issuer ${bases.distrolessVerify.issuer}`);
    expect(verify).toContain(nodeLine(versions.node.defaultMajor).runtime.digest);
    expect(text).not.toContain('dhi.io');
  });

  it('DHI: every job that pulls from dhi.io writes its credentials after a one-line failure when DHI_USERNAME or DHI_TOKEN is missing; Docker Scout verifies both base images first', async () => {
    const { jobs, doc } = await gitlab({ base: 'dhi' });
    const missing = 'dhi.io needs a Docker ID: set the masked CI/CD variables DHI_USERNAME and DHI_TOKEN';
    for (const id of ['base-images', 'image-build-linux-amd64', 'image-build-linux-arm64', 'image-push-linux-amd64', 'image-push-linux-arm64']) {
      expect(script(jobs[id]!), id).toContain(missing);
      expect(script(jobs[id]!), id).toContain(`"${bases.dhi.registry}"`);
    }
    const verify = script(jobs['base-images']!);
    const line = nodeLine(versions.node.defaultMajor);
    for (const image of [line.dhi!.build, line.dhi!.runtime]) expect(verify).toContain(`${image.image}:${image.tag}@${image.digest}`);
    expect(verify).toContain(bases.dhi.verify.tool.replace(' <image>', ' "$base"'));
    expect(imageOf(jobs['base-images']!, doc.variables as Record<string, string>)).toBe((versions.tools['docker-cli'] as { gitlabImage?: string }).gitlabImage);
  });
});
