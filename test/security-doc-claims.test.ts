import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartNames, kubernetesTarget } from '../generators/features/kubernetes.js';
import { checkPodSecurity } from '../lib/policy/pod-security.js';
import { nodeLine, versions } from '../core/versions.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';
import { parseWorkflow, type Step } from './support/ci-workflows.js';
import { helmLint, helmTemplate, type KubeObject, parseManifests } from './support/kubernetes.js';

// Every concrete statement of the emitted SECURITY.md and of the README's security sections, held against the
// files it is about. The statements are read from the documents (table rows, list items, sentences); each must
// match an entry of CLAIMS, whose check asserts it on the emitted files. A new sentence without a check fails.

type Ci = 'github' | 'gitlab';
interface Service {
  ci: Ci;
  files: Map<string, string>;
  chartDir: string;
  /** `helm template` with extra values: exit code, stderr and the parsed objects. */
  render(values?: Record<string, unknown>): Promise<{ exitCode: number; stderr: string; objects: KubeObject[] }>;
  lint(values: Record<string, unknown>): Promise<number>;
}
interface Claim {
  /** A piece of text that identifies the statement (it may match it in both CI variants). */
  says: string;
  /** The emitted file(s) the statement is about. */
  file: string;
  check(s: Service): void | Promise<void>;
  /** Another issue's work the check waits for: until it is merged this claim fails, on purpose. */
  awaits?: string;
}

const { helmKubeVersion, pssVersion, oldestSupported } = kubernetesTarget();
const NAME = 'my-svc';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const exception = { securityException: { allowWeakerSecurity: true, reason: 'reviewed exception for the claims test' } };

// ---- reading the emitted files ----
const text = (s: Service, path: string) => {
  const content = s.files.get(path);
  if (content === undefined) throw new Error(`${path} is not emitted`);
  return content;
};
const dockerfile = (s: Service) => text(s, 'Dockerfile');
const fromLines = (s: Service) => dockerfile(s).split('\n').filter((l) => /^FROM /.test(l));
const workflow = (s: Service, name: string) => parseWorkflow(text(s, `.github/workflows/${name}.yml`));
const steps = (s: Service, name: string, job: string): Step[] => workflow(s, name).jobs[job]?.steps ?? [];
const gitlab = (s: Service) => parse(text(s, '.gitlab-ci.yml')) as Record<string, { script?: string[]; rules?: unknown; variables?: Record<string, string>; needs?: unknown }>;
const script = (s: Service, job: string) => (gitlab(s)[job]?.script ?? []).join('\n');
const namespaceObjects = (s: Service) => parseManifests(text(s, 'deploy/namespace.yaml'));
const kind = (objects: KubeObject[], k: string) => objects.find((o) => o.kind === k);
const pod = (objects: KubeObject[]) => kind(objects, 'Deployment')!.spec.template.spec;
const trivyGate = (step: Step | undefined, scanType: string) =>
  step?.with?.['scan-type'] === scanType && step.with?.severity === 'HIGH,CRITICAL' && step.with?.['ignore-unfixed'] === true && step.with?.['exit-code'] === '1';

/** Per CI: the gates that fail on fixable HIGH and CRITICAL, in dependencies and in the image. */
function expectHighCriticalGates(s: Service) {
  if (s.ci === 'github') {
    expect(steps(s, 'security', 'dependencies').some((st) => trivyGate(st, 'fs'))).toBe(true);
    expect(steps(s, 'container', 'scan').some((st) => trivyGate(st, 'image'))).toBe(true);
  } else {
    expect(script(s, 'trivy-dependencies')).toContain('--severity HIGH,CRITICAL --ignore-unfixed --exit-code 1');
    expect(script(s, 'image-scan')).toContain('--severity HIGH,CRITICAL --ignore-unfixed --exit-code 1');
  }
}

function expectDigestPins(s: Service) {
  const froms = fromLines(s);
  expect(froms.length).toBeGreaterThan(0);
  for (const from of froms) expect(from).toMatch(/@sha256:[0-9a-f]{64}/);
}

async function expectPublishByDigestSigned(s: Service) {
  if (s.ci === 'github') {
    const job = workflow(s, 'container').jobs.publish!;
    expect(job.if).toContain('default_branch');
    expect(job.if).toContain("startsWith(github.ref, 'refs/tags/v')");
    const all = JSON.stringify(job.steps);
    expect(all).toContain('push-by-digest=true');
    expect(job.steps!.some((st) => trivyGate(st, 'image') && String(st.with?.['image-ref']).includes('steps.build.outputs.digest'))).toBe(true);
    expect(all).toContain('cosign sign --yes \\"${IMAGE}@${DIGEST}\\"');
  } else {
    const ci = gitlab(s);
    expect(JSON.stringify(ci['image-push'])).toContain('$CI_DEFAULT_BRANCH');
    expect(script(s, 'image-push')).toContain('push-by-digest=true');
    expect(script(s, 'image-verify')).toContain('--exit-code 1 "${IMAGE}@${DIGEST}"');
    expect(script(s, 'image-sign')).toContain('cosign sign --yes "${IMAGE}@${DIGEST}"');
  }
}

/** security.yml: pull requests and weekly itself; pushes to main through container.yml, which calls it before publishing. */
function expectSecurityWorkflowTriggers(s: Service) {
  const security = workflow(s, 'security');
  expect(security.on).toMatchObject({ pull_request: null, workflow_call: null, schedule: [{ cron: '17 5 * * 1' }] });
  const container = workflow(s, 'container');
  expect(container.on).toMatchObject({ push: { branches: ['main'] } });
  expect(container.jobs.security).toMatchObject({ uses: './.github/workflows/security.yml', if: "github.event_name == 'push'" });
}

function expectScheduledImageRescan(s: Service) {
  if (s.ci === 'github') {
    const rescan = workflow(s, 'rescan');
    expect(rescan.on.schedule, 'rescan.yml has no schedule').toEqual([{ cron: '37 6 * * 1' }]);
    const published = Object.values(rescan.jobs).flatMap((j) => j.steps ?? []);
    expect(published.some((st) => trivyGate(st, 'image') && !String(st.with?.['image-ref']).startsWith('local/'))).toBe(true);
  } else {
    const scheduled = Object.values(gitlab(s)).filter((job) => JSON.stringify(job?.rules ?? '').includes('schedule'));
    expect(scheduled.some((job) => /trivy image[^\n]*\$\{?IMAGE/.test((job.script ?? []).join('\n')))).toBe(true);
  }
}

const CLAIMS: Claim[] = [
  // ---- SECURITY.md: OWASP Docker Top 10 ----
  {
    says: 'The image runs as the distroless `nonroot` user, numeric `USER 65532:65532`',
    file: 'Dockerfile',
    check: (s) => {
      expect(dockerfile(s)).toMatch(/^USER 65532:65532$/m);
      expect(fromLines(s).at(-1)).toMatch(/^FROM gcr\.io\/distroless\/nodejs\d+-debian13:nonroot@/);
    },
  },
  {
    says: 'The chart sets `runAsNonRoot: true`, `runAsUser: 65532` and `allowPrivilegeEscalation: false`',
    file: 'chart/',
    check: async (s) => {
      const spec = pod((await s.render()).objects);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      expect(spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false });
    },
  },
  {
    says: '`deploy/namespace.yaml` enforces the Pod Security `restricted` profile',
    file: 'deploy/namespace.yaml',
    check: (s) => expect(kind(namespaceObjects(s), 'Namespace')!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' }),
  },
  { says: 'Base images are pinned by digest', file: 'Dockerfile', check: expectDigestPins },
  {
    says: 'Dependabot proposes updates weekly for npm packages, base images and GitHub Actions',
    file: '.github/dependabot.yml',
    check: (s) => {
      const updates = parse(text(s, '.github/dependabot.yml')).updates as { 'package-ecosystem': string; schedule: { interval: string } }[];
      expect(updates.map((u) => u['package-ecosystem']).sort()).toEqual(['docker', 'github-actions', 'npm']);
      for (const u of updates) expect(u.schedule.interval).toBe('weekly');
    },
  },
  {
    says: '`renovate.json` configures Renovate',
    file: 'renovate.json, .gitlab-ci.yml',
    check: (s) => {
      expect(JSON.parse(text(s, 'renovate.json')).extends).toContain('docker:pinDigests');
      // "nothing in this repository runs it": no job runs Renovate.
      expect(text(s, '.gitlab-ci.yml')).not.toMatch(/renovate/i);
    },
  },
  { says: 'CI fails on fixable HIGH and CRITICAL vulnerabilities in dependencies and in the image (Trivy)', file: 'CI', check: expectHighCriticalGates },
  {
    says: 'The patch policy and the end-of-life table below say',
    file: 'SECURITY.md',
    check: (s) => {
      expect(text(s, 'SECURITY.md')).toContain('\n## Patch policy\n');
      expect(text(s, 'SECURITY.md')).toContain('\n## End of life of what this service targets\n');
    },
  },
  {
    says: "The chart's NetworkPolicy lets only the ingress controller in, on the service port, and only DNS out",
    file: 'chart/templates/networkpolicy.yaml',
    check: async (s) => {
      const policy = kind((await s.render()).objects, 'NetworkPolicy')!.spec;
      expect(policy.ingress).toEqual([
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }] },
      ]);
      expect(policy.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port))).toEqual([53, 53]);
    },
  },
  {
    says: '`deploy/namespace.yaml` adds a default-deny NetworkPolicy for the whole namespace',
    file: 'deploy/namespace.yaml',
    check: (s) => expect(kind(namespaceObjects(s), 'NetworkPolicy')!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
  },
  {
    says: 'The chart refuses every Service type but ClusterIP, and the namespace quota allows no NodePort or LoadBalancer',
    file: 'chart/, deploy/namespace.yaml',
    check: async (s) => {
      for (const type of ['NodePort', 'LoadBalancer']) {
        expect((await s.render({ service: { type } })).exitCode).not.toBe(0);
        expect((await s.render({ ...exception, service: { type } })).exitCode).not.toBe(0);
      }
      expect(kind(namespaceObjects(s), 'ResourceQuota')!.spec.hard).toMatchObject({ 'services.nodeports': '0', 'services.loadbalancers': '0' });
    },
  },
  {
    says: 'The runtime image is distroless: no shell, no package manager',
    file: 'Dockerfile',
    check: (s) => expect(fromLines(s).at(-1)).toMatch(/^FROM gcr\.io\/distroless\//),
  },
  {
    says: 'The chart sets `readOnlyRootFilesystem: true`, drops all capabilities and uses the RuntimeDefault seccomp and AppArmor profiles',
    file: 'chart/',
    check: async (s) => {
      const spec = pod((await s.render()).objects);
      expect(spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'RuntimeDefault' } });
    },
  },
  {
    says: 'The pod gets no service account token unless `rbac.create` is on',
    file: 'chart/',
    check: async (s) => {
      const objects = (await s.render()).objects;
      expect(pod(objects).automountServiceAccountToken).toBe(false);
      expect(kind(objects, 'ServiceAccount')!.automountServiceAccountToken).toBe(false);
      expect(JSON.stringify(pod(objects).volumes)).not.toContain('serviceAccountToken');
    },
  },
  {
    says: 'hadolint, Trivy config and kube-linter check the Dockerfile and the chart in CI',
    file: 'CI',
    check: (s) => {
      if (s.ci === 'github') {
        expect(JSON.stringify(steps(s, 'container', 'hadolint'))).toContain('hadolint/hadolint-action');
        expect(steps(s, 'security', 'config').some((st) => st.with?.['scan-type'] === 'config' && st.with?.['exit-code'] === '1')).toBe(true);
        expect(JSON.stringify(steps(s, 'chart', 'chart'))).toContain('kube-linter lint --config .kube-linter.yaml rendered/');
      } else {
        expect(script(s, 'hadolint')).toContain('hadolint');
        expect(script(s, 'trivy-config')).toContain('trivy config');
        expect(script(s, 'kube-linter')).toContain('kube-linter lint --config .kube-linter.yaml rendered/');
      }
    },
  },
  {
    says: 'One process per container',
    file: 'Dockerfile, chart/',
    check: async (s) => {
      expect(dockerfile(s)).toMatch(/^CMD \["dist\/server\.js"\]$/m);
      expect(pod((await s.render()).objects).containers).toHaveLength(1);
    },
  },
  {
    says: '`values.schema.json` rejects weaker security settings unless `securityException.allowWeakerSecurity` is set with a written reason',
    file: 'chart/values.schema.json',
    check: async (s) => {
      expect(await s.lint({ securityContext: { privileged: true } })).not.toBe(0);
      expect(await s.lint({ securityException: { allowWeakerSecurity: true, reason: '' }, securityContext: { privileged: true } })).not.toBe(0);
      const { objects } = await s.render({ ...exception, securityContext: { privileged: true } });
      expect(kind(objects, 'Deployment')!.metadata.annotations?.['hardened-service/security-exception']).toBe(exception.securityException.reason);
    },
  },
  {
    says: 'The chart refuses RBAC escalation paths',
    file: 'chart/templates/_helpers.tpl',
    check: async (s) => {
      const rbac = (rule: object) => ({ rbac: { create: true, rules: [rule] } });
      for (const rule of [
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['list'] },
      ]) {
        expect((await s.render(rbac(rule))).exitCode).not.toBe(0);
        expect((await s.render({ ...exception, ...rbac(rule) })).exitCode).toBe(0);
      }
    },
  },
  {
    says: 'A Kubernetes Secret is mounted read-only as files under `SECRETS_DIR`, never passed as environment variables',
    file: 'chart/templates/deployment.yaml, src/secrets.ts',
    check: async (s) => {
      const container = pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0];
      expect(container.volumeMounts).toContainEqual({ name: 'secrets', mountPath: '/run/secrets', readOnly: true });
      expect(container.env).toContainEqual({ name: 'SECRETS_DIR', value: '/run/secrets' });
      expect(JSON.stringify(container)).not.toMatch(/secretKeyRef|envFrom/);
      expect(text(s, 'src/secrets.ts')).toContain('readFileSync');
    },
  },
  {
    says: 'The chart refuses `valueFrom` and literal values for secret-looking names in `extraEnv`',
    file: 'chart/',
    check: async (s) => {
      expect((await s.render({ extraEnv: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })).exitCode).not.toBe(0);
      expect((await s.render({ extraEnv: [{ name: 'DB_PASSWORD', value: 'hunter2' }] })).stderr).toContain('extraEnv[0] DB_PASSWORD looks like a secret');
    },
  },
  {
    says: 'gitleaks scans the whole git history',
    file: 'CI',
    check: (s) => {
      if (s.ci === 'github') {
        // "on every push to main, every pull request and weekly"
        expectSecurityWorkflowTriggers(s);
        expect(steps(s, 'security', 'secrets')[0]!.with).toMatchObject({ 'fetch-depth': 0 });
        expect(JSON.stringify(steps(s, 'security', 'secrets'))).toContain('bin-gitleaks\\" git ');
      } else {
        // "in every pipeline": the job has no rules of its own.
        const job = gitlab(s).gitleaks!;
        expect(job.rules).toBeUndefined();
        expect(job.variables).toMatchObject({ GIT_DEPTH: '0' });
        expect(script(s, 'gitleaks')).toMatch(/^gitleaks git /);
      }
    },
  },
  { says: 'The Dockerfile takes no build arguments', file: 'Dockerfile', check: (s) => expect(dockerfile(s)).not.toMatch(/^ARG /m) },
  {
    says: 'CPU, memory and ephemeral-storage requests and limits are required by the chart schema',
    file: 'chart/values.schema.json',
    check: async (s) => {
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory', 'ephemeral-storage']) expect(await s.lint({ resources: { [kind]: { [resource]: null } } })).not.toBe(0);
    },
  },
  {
    says: "The chart refuses limits above the namespace's LimitRange and replicas beyond its ResourceQuota",
    file: 'chart/, deploy/namespace.yaml',
    check: async (s) => {
      expect((await s.render({ resources: { limits: { memory: '5Gi' } } })).stderr).toContain("exceeds the namespace's LimitRange maximum");
      expect((await s.render({ replicaCount: 30 })).stderr).toContain("exceed the namespace's ResourceQuota");
    },
  },
  {
    says: '`/tmp` is a size-limited emptyDir',
    file: 'chart/',
    check: async (s) => expect(pod((await s.render()).objects).volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }),
  },
  { says: 'A PodDisruptionBudget guards availability', file: 'chart/', check: async (s) => expect(kind((await s.render()).objects, 'PodDisruptionBudget')).toBeDefined() },
  {
    says: 'CI pushes the image by digest only from the default branch or a release tag, scans that digest and signs it keylessly with cosign',
    file: 'CI',
    check: expectPublishByDigestSigned,
  },
  {
    says: 'CI attaches a CycloneDX SBOM',
    file: 'CI',
    check: (s) => {
      if (s.ci === 'github') {
        const all = JSON.stringify(steps(s, 'container', 'publish'));
        expect(all).toContain('cosign attest --yes --type cyclonedx');
        // "and a build provenance attestation"
        expect(all).toContain('actions/attest-build-provenance');
      } else expect(script(s, 'image-sign')).toContain('cosign attest --yes --type cyclonedx --predicate sbom.cdx.json "${IMAGE}@${DIGEST}"');
    },
  },
  {
    says: 'Deploy by digest with the chart value `image.digest`',
    file: 'chart/',
    // The default image is on the CI system's own registry.
    check: async (s) =>
      expect(pod((await s.render({ image: { digest: DIGEST } })).objects).containers[0].image).toBe(
        `${s.ci === 'gitlab' ? 'registry.gitlab.com' : 'ghcr.io'}/platform/${NAME}@${DIGEST}`,
      ),
  },
  {
    says: "The pod's root filesystem is read-only; only `/tmp` is writable",
    file: 'chart/',
    check: async (s) => {
      const container = pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0];
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container.volumeMounts.filter((m: { readOnly?: boolean }) => !m.readOnly).map((m: { mountPath: string }) => m.mountPath)).toEqual(['/tmp']);
    },
  },
  {
    says: 'Application files are owned by root (`COPY --chown=0:65532`)',
    file: 'Dockerfile',
    check: (s) => {
      const runtime = dockerfile(s).slice(dockerfile(s).lastIndexOf('\nFROM '));
      const copies = runtime.split('\n').filter((l) => l.startsWith('COPY '));
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect(copy).toContain('--chown=0:65532');
    },
  },
  {
    // Built and held for real (modes, writes as 65532, reads as another user) in test/image-service.e2e.test.ts.
    says: 'Their group 65532 can read them and other users cannot; neither the service nor its group can write them',
    file: 'Dockerfile',
    check: (s) => {
      const runtimeAt = dockerfile(s).lastIndexOf('\nFROM ');
      const copied = dockerfile(s).slice(runtimeAt).split('\n').filter((l) => l.startsWith('COPY --from=build')).map((l) => l.split(' ').at(-2)!.replace('/app/', ''));
      const chmod = /chmod -R u=rX,g=rX,o= (.+)$/m.exec(dockerfile(s).slice(0, runtimeAt))?.[1];
      expect(chmod?.split(' ').sort()).toEqual(copied.sort());
    },
  },
  {
    says: 'Every change is a new image digest',
    file: 'CI',
    check: (s) => expect(s.ci === 'github' ? JSON.stringify(steps(s, 'container', 'publish')) : script(s, 'image-push')).toContain('push-by-digest=true'),
  },
  {
    says: 'Structured JSON logs (pino) go to stdout, one line per request',
    file: 'src/logger.ts, src/http-server.ts',
    check: (s) => {
      expect(text(s, 'src/logger.ts')).toContain("from 'pino'");
      expect(text(s, 'src/http-server.ts')).toMatch(/recordRequest\(/);
    },
  },
  {
    says: 'Authorization headers, cookies and API keys are redacted',
    file: 'src/logger.ts',
    check: (s) => {
      for (const path of ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]']) expect(text(s, 'src/logger.ts')).toContain(`'${path}'`);
    },
  },
  // ---- SECURITY.md: scanning and updates ----
  {
    says: '`.github/workflows/security.yml` runs CodeQL, Trivy (dependencies and configuration) and gitleaks on every push to main, every pull request and weekly (Mondays, 05:17 UTC)',
    file: '.github/workflows/security.yml',
    check: (s) => {
      expectSecurityWorkflowTriggers(s);
      expect(Object.keys(workflow(s, 'security').jobs)).toEqual(expect.arrayContaining(['codeql', 'dependencies', 'config', 'secrets']));
    },
  },
  {
    says: '`.github/workflows/container.yml` builds the image and fails on fixable HIGH and CRITICAL vulnerabilities (Trivy) on every push to main or a `v*` tag and every pull request',
    file: '.github/workflows/container.yml',
    check: (s) => {
      expect(workflow(s, 'container').on).toMatchObject({ push: { branches: ['main'], tags: ['v*'] } });
      expect(Object.keys(workflow(s, 'container').on)).toContain('pull_request');
      expect(steps(s, 'container', 'scan').some((st) => trivyGate(st, 'image'))).toBe(true);
    },
  },
  {
    says: '`.github/workflows/rescan.yml` rescans the published image weekly (Mondays, 06:37 UTC)',
    file: '.github/workflows/rescan.yml',
    check: expectScheduledImageRescan,
  },
  {
    says: 'Dependabot (`.github/dependabot.yml`) proposes updates weekly',
    file: '.github/dependabot.yml',
    check: (s) => expect(parse(text(s, '.github/dependabot.yml')).updates.every((u: { schedule: { interval: string } }) => u.schedule.interval === 'weekly')).toBe(true),
  },
  {
    says: 'Every pipeline (merge requests, branches and tags) runs Trivy (dependencies, configuration and the image), gitleaks, hadolint, kubeconform and kube-linter',
    file: '.gitlab-ci.yml',
    check: (s) => {
      const ci = gitlab(s);
      for (const job of ['trivy-dependencies', 'trivy-config', 'image-scan', 'gitleaks', 'hadolint', 'kubeconform', 'kube-linter']) {
        expect(ci[job], job).toBeDefined();
        expect(ci[job]!.rules, job).toBeUndefined();
      }
      expect(JSON.stringify((ci.workflow as { rules: unknown }).rules)).toContain('merge_request_event');
    },
  },
  {
    says: 'Nothing runs on a timetable until you create a pipeline schedule',
    file: '.gitlab-ci.yml',
    check: (s) => {
      // A scheduled pipeline runs on a branch, which the workflow rules admit; the scan jobs have no rules of their own.
      expect(JSON.stringify((gitlab(s).workflow as { rules: unknown }).rules)).toContain('$CI_COMMIT_BRANCH');
      expect(gitlab(s)['trivy-dependencies']!.rules).toBeUndefined();
    },
  },
  {
    says: 'A scheduled pipeline also rescans the published image',
    file: '.gitlab-ci.yml',
    check: expectScheduledImageRescan,
  },
  // ---- SECURITY.md: patch policy ----
  { says: 'CI fails on a fixable finding in dependencies or the image', file: 'CI', check: expectHighCriticalGates },
  {
    says: 'Trivy reports every severity to code scanning (Security tab); CI does not fail',
    file: '.github/workflows/security.yml',
    check: (s) => {
      const report = steps(s, 'security', 'dependencies')[1]!;
      expect(report.with).toMatchObject({ 'scan-type': 'fs', format: 'sarif', 'exit-code': '0' });
      expect(report.with?.severity).toBeUndefined();
      expect(steps(s, 'security', 'dependencies')[2]!.uses).toContain('github/codeql-action/upload-sarif');
    },
  },
  {
    says: 'The pipeline gates show only HIGH and CRITICAL',
    file: '.gitlab-ci.yml',
    check: (s) => {
      const lines = text(s, '.gitlab-ci.yml').split('\n').filter((l) => /trivy (fs|image)/.test(l) && !l.includes('cyclonedx'));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toContain('--severity HIGH,CRITICAL');
    },
  },
  {
    says: 'Deadlines run from the day the finding is known',
    file: 'SECURITY.md',
    check: (s) => {
      const rows = text(s, 'SECURITY.md').split('\n').filter((l) => /^\| (CRITICAL|HIGH|MEDIUM|LOW) \| \d+ days/.test(l));
      expect(rows).toHaveLength(4);
    },
  },
  {
    says: 'A finding with no fix yet is accepted as described under "Accepted scanner findings", with an expiry',
    file: '.trivyignore',
    check: (s) => expect(text(s, '.trivyignore')).toContain('exp:'),
  },
  {
    says: 'Say so in a ',
    file: 'SECURITY.md',
    check: (s) => expect(text(s, 'SECURITY.md')).toContain(s.ci === 'github' ? 'GitHub private vulnerability reporting' : 'confidential issue'),
  },
  {
    says: 'A leaked secret: revoke and rotate it first',
    file: 'CI',
    check: (s) => expect(s.ci === 'github' ? JSON.stringify(steps(s, 'security', 'secrets')) : script(s, 'gitleaks')).toContain('--report-format sarif'),
  },
  {
    says: 'Fix: update the package',
    file: 'package-lock.json, Dockerfile',
    check: (s) => {
      expect(s.files.has('package-lock.json')).toBe(true);
      expectDigestPins(s);
    },
  },
  {
    says: 'CI builds, scans and signs the new image and publishes its digest; deploy it: `helm upgrade',
    file: 'CI, chart/',
    check: async (s) => {
      await expectPublishByDigestSigned(s);
      expect(text(s, 'SECURITY.md')).toContain(`helm upgrade ${chartNames(NAME).release} ./chart --namespace ${NAME} --reuse-values --set image.digest=`);
      expect(parse(text(s, 'chart/values.yaml')).image.digest).toBe('');
    },
  },
  {
    says: 'With no fix available: limit exposure',
    file: 'chart/values.yaml, .trivyignore',
    check: (s) => {
      expect(parse(text(s, 'chart/values.yaml')).ingress.enabled).toBe(false);
      expect(text(s, '.trivyignore')).toContain('exp:');
    },
  },
  {
    says: 'Emergency procedure, for a CRITICAL finding, an exploit in the wild or a leaked secret, the same day:',
    file: 'SECURITY.md, CI',
    check: (s) => {
      expect(text(s, 'SECURITY.md')).toMatch(/the same day:\n\n1\. [^\n]+\n2\. [^\n]+\n3\. [^\n]+\n4\. [^\n]+\n5\. /);
      expectHighCriticalGates(s);
    },
  },
  // ---- SECURITY.md: end of life ----
  {
    says: "From the generator's versions data (checked ",
    file: 'SECURITY.md',
    check: (s) => expect(text(s, 'SECURITY.md')).toContain(`(checked ${nodeLine(26).runtime.checked})`),
  },
  {
    says: '`npx create-hardened-service upgrade` brings the next one',
    file: 'CI',
    check: (s) => {
      if (s.ci === 'github') expect(text(s, '.github/workflows/upgrade.yml')).toContain('upgrade . --yes');
      else {
        expect(script(s, 'generator-upgrade')).toContain('npm view create-hardened-service@latest version');
        expect(script(s, 'generator-upgrade')).toContain('create-hardened-service upgrade . --yes');
      }
    },
  },
  {
    says: 'Node.js 26 (active LTS) | 2029-04-30',
    file: 'Dockerfile, .nvmrc',
    check: (s) => {
      expect(nodeLine(26).endOfLife).toBe('2029-04-30');
      expect(fromLines(s).at(-1)).toContain('nodejs26-debian13');
    },
  },
  {
    says: 'Debian 13 "trixie", the base image\'s OS',
    file: 'Dockerfile',
    check: (s) => {
      expect(fromLines(s).at(-1)).toContain(`-debian${versions.debian.release}:`);
      expect(text(s, 'SECURITY.md')).toContain(`| ${versions.debian.securitySupportEnds} |`);
    },
  },
  {
    says: 'Base image gcr.io/distroless/nodejs26-debian13:nonroot (the first of Node.js 26 and Debian 13 to end) | 2028-08-09',
    file: 'Dockerfile',
    check: (s) => expect(fromLines(s).at(-1)).toMatch(/^FROM gcr\.io\/distroless\/nodejs26-debian13:nonroot@/),
  },
  {
    says: `Kubernetes ${versions.kubernetes.minor} (pinned minor; Chart.yaml refuses minors older than ${oldestSupported})`,
    file: 'chart/Chart.yaml, deploy/namespace.yaml',
    check: (s) => {
      expect(parse(text(s, 'chart/Chart.yaml')).kubeVersion).toBe(`>=${oldestSupported}.0-0`);
      expect(kind(namespaceObjects(s), 'Namespace')!.metadata.labels?.['pod-security.kubernetes.io/enforce-version']).toBe(pssVersion);
    },
  },
  // ---- README.md: configuration, image, chart ----
  {
    says: 'Configuration comes from environment variables; secrets never do',
    file: 'src/config.ts, src/secrets.ts, chart/',
    check: async (s) => {
      expect(text(s, 'src/secrets.ts')).toContain('readFileSync');
      expect(JSON.stringify(pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0].env)).not.toContain('secretKeyRef');
    },
  },
  {
    says: 'The timeouts fit the chart: a request still arriving when draining starts ends',
    file: 'src/config.ts, src/shutdown.ts, chart/values.yaml',
    check: (s) => {
      // test/app-config-docs.test.ts holds the README's whole table against src/config.ts.
      const ms = (name: string) => Number(new RegExp(`^  ${name}: ([\\d_]+),$`, 'm').exec(text(s, 'src/config.ts'))![1]!.replaceAll('_', ''));
      const drainMs = parse(text(s, 'chart/values.yaml')).config.shutdownTimeoutMs;
      // Node checks the headers and request timeouts every 500 ms.
      for (const name of ['headersTimeoutMs', 'requestTimeoutMs', 'idleTimeoutMs']) expect(ms(name) + 500, name).toBeLessThan(drainMs);
      expect(text(s, 'src/shutdown.ts')).toContain("'drain deadline passed: requests cut short: exiting with 1'");
      expect(text(s, 'src/shutdown.ts')).toContain("'drain deadline passed: closed idle connections, no request was cut'");
    },
  },
  {
    says: "Every answer, including those to requests Node's HTTP parser rejects, carries the security headers",
    file: 'src/http-server.ts, test/hostile-traffic.test.ts',
    check: (s) => {
      const server = text(s, 'src/http-server.ts');
      expect(server).toContain("server.on('clientError'");
      expect(server).toMatch(/const head = \[\s+\.\.\.headers,\s+\['x-request-id', id\]/);
      expect(server).toMatch(/for \(const \[name, value\] of headers\) res\.setHeader\(name, value\);\s+res\.setHeader\('x-request-id', id\);/);
      // The service's own suite (run by app-service.e2e.test.ts) checks every case's answer and its one log line.
      const suite = text(s, 'test/hostile-traffic.test.ts');
      expect(suite).toContain("'the message quotes no input'");
      expect(suite).toContain('assert.equal(lines.length, 1, JSON.stringify(lines));');
    },
  },
  {
    says: 'pinned by digest: no shell, no package manager, user 65532',
    file: 'Dockerfile',
    check: (s) => {
      expectDigestPins(s);
      expect(fromLines(s).at(-1)).toMatch(/^FROM gcr\.io\/distroless\//);
      expect(dockerfile(s)).toMatch(/^USER 65532:65532$/m);
    },
  },
  { says: 'CI builds, scans, signs and pushes it by digest', file: 'CI', check: expectPublishByDigestSigned },
  // The next three are also proven by building and running the image with podman: test/image-service.e2e.test.ts.
  {
    says: 'With podman or buildah, build with `--format docker`: their default OCI format has no HEALTHCHECK and drops it',
    file: 'Dockerfile, README.md',
    check: (s) => {
      expect(dockerfile(s)).toMatch(/^HEALTHCHECK /m);
      expect(text(s, 'README.md')).toMatch(/^podman build --format docker /m);
    },
  },
  {
    says: "Behind a TLS-inspecting proxy, `npm ci` in the build stage must trust the proxy's CA",
    file: 'Dockerfile',
    check: (s) => expect(dockerfile(s)).toMatch(/export NODE_EXTRA_CA_CERTS=\/run\/secrets\/extra_ca_certs; fi \\\n\s+&& npm ci /),
  },
  {
    says: 'Pass the CA (PEM) as the build secret `extra_ca_certs`: it is mounted for the `npm ci` step only and no image layer keeps it',
    file: 'Dockerfile, README.md',
    check: (s) => {
      expect(dockerfile(s).match(/--mount=type=secret,id=extra_ca_certs,required=false/g)).toHaveLength(1);
      expect(dockerfile(s)).not.toMatch(/^(ARG|ENV|COPY|ADD) .*(extra_ca_certs|NODE_EXTRA_CA_CERTS)/m);
      expect(text(s, 'README.md')).toMatch(/^docker build --secret id=extra_ca_certs,src=/m);
    },
  },
  {
    says: 'The Helm chart in `chart/` runs the service under the Pod Security Standards **restricted** profile',
    file: 'chart/',
    check: async (s) => {
      const deployment = kind((await s.render()).objects, 'Deployment')!;
      expect(checkPodSecurity(deployment, 'restricted', pssVersion)).toEqual([]);
      expect(parse(text(s, 'chart/Chart.yaml')).annotations['hardened-service/kubernetes-minor']).toBe(versions.kubernetes.minor);
    },
  },
  {
    says: 'Install it into the service',
    file: 'chart/templates/_helpers.tpl',
    check: async (s) => {
      const result = await helmTemplate(s.chartDir, {}, { namespace: 'default', kubeVersion: helmKubeVersion });
      expect(result.stderr).toContain('refusing to install into the "default" namespace');
    },
  },
  {
    says: '`deploy/namespace.yaml` creates',
    file: 'deploy/namespace.yaml',
    check: (s) => {
      const objects = namespaceObjects(s);
      expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy']);
      for (const mode of ['enforce', 'audit', 'warn'])
        expect(objects[0]!.metadata.labels).toMatchObject({ [`pod-security.kubernetes.io/${mode}`]: 'restricted', [`pod-security.kubernetes.io/${mode}-version`]: pssVersion });
    },
  },
  {
    says: 'What each security setting does',
    file: 'chart/values.yaml, chart/values.schema.json',
    check: (s) => {
      expect(s.files.has('chart/values.yaml')).toBe(true);
      expect(JSON.parse(text(s, 'chart/values.schema.json')).additionalProperties).toBe(false);
    },
  },
  {
    says: '`runAsNonRoot: true`, `runAsUser/runAsGroup/fsGroup: 65532` | runs as the distroless `nonroot` user',
    file: 'chart/',
    check: async (s) => expect(pod((await s.render()).objects).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 }),
  },
  {
    says: '`readOnlyRootFilesystem: true` | the image cannot be modified',
    file: 'chart/',
    check: async (s) => {
      const spec = pod((await s.render()).objects);
      expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
      expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    },
  },
  {
    says: '`allowPrivilegeEscalation: false`, `privileged: false` |',
    file: 'chart/',
    check: async (s) => expect(pod((await s.render()).objects).containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, privileged: false }),
  },
  { says: '`capabilities.drop: [ALL]` |', file: 'chart/', check: async (s) => expect(pod((await s.render()).objects).containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] }) },
  { says: '`seccompProfile: RuntimeDefault` |', file: 'chart/', check: async (s) => expect(pod((await s.render()).objects).securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' }) },
  { says: '`appArmorProfile: RuntimeDefault` |', file: 'chart/', check: async (s) => expect(pod((await s.render()).objects).securityContext.appArmorProfile).toEqual({ type: 'RuntimeDefault' }) },
  {
    says: '`automountServiceAccountToken: false` |',
    file: 'chart/',
    check: async (s) => {
      expect(pod((await s.render()).objects).automountServiceAccountToken).toBe(false);
      const rbac = pod((await s.render({ rbac: { create: true, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } })).objects);
      expect(rbac.volumes.find((v: { name: string }) => v.name === 'kube-api-access').projected.sources[0].serviceAccountToken.expirationSeconds).toBe(3600);
    },
  },
  { says: '`enableServiceLinks: false` |', file: 'chart/', check: async (s) => expect(pod((await s.render()).objects).enableServiceLinks).toBe(false) },
  {
    says: '`image.digest` | deploys exactly the image CI built and signed',
    file: 'chart/',
    check: async (s) => expect(pod((await s.render({ image: { digest: DIGEST } })).objects).containers[0].image).toMatch(/@sha256:/),
  },
  {
    says: '`resources` | cpu, memory and ephemeral-storage requests and limits on every container',
    file: 'chart/',
    check: async (s) => {
      for (const c of pod((await s.render()).objects).containers)
        for (const k of ['requests', 'limits']) expect(Object.keys(c.resources[k]).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    },
  },
  {
    says: '`secrets.existingSecret` | an existing Secret mounted read-only',
    file: 'chart/',
    check: async (s) => expect(pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0].volumeMounts).toContainEqual({ name: 'secrets', mountPath: '/run/secrets', readOnly: true }),
  },
  {
    says: 'NetworkPolicy | ingress only from the ingress controller',
    file: 'chart/',
    check: async (s) => {
      const policy = kind((await s.render({ metrics: { enabled: true } })).objects, 'NetworkPolicy')!.spec;
      expect(policy.ingress.map((r: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }) => r.from[0]!.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])).toEqual(['ingress-nginx', 'monitoring']);
      expect(policy.egress).toHaveLength(1);
    },
  },
  {
    says: 'PodDisruptionBudget, topology spread |',
    file: 'chart/',
    check: async (s) => {
      const objects = (await s.render({ replicaCount: 2 })).objects;
      expect(kind(objects, 'PodDisruptionBudget')).toBeDefined();
      expect(pod(objects).topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    },
  },
  {
    says: '`terminationGracePeriodSeconds: 30` |',
    file: 'chart/',
    check: async (s) => {
      const spec = pod((await s.render()).objects);
      const env = Object.fromEntries(spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, Number(e.value)]));
      expect(spec.terminationGracePeriodSeconds).toBe(30);
      expect(30_000).toBeGreaterThan(env.SHUTDOWN_DELAY_MS + env.SHUTDOWN_TIMEOUT_MS);
    },
  },
  {
    says: 'Optional, off by default:',
    file: 'chart/values.yaml',
    check: async (s) => {
      const values = parse(text(s, 'chart/values.yaml'));
      expect([values.autoscaling.enabled, values.ingress.enabled, values.metrics.enabled, values.metrics.serviceMonitor.enabled, values.rbac.create]).toEqual([false, false, false, false, false]);
      expect((await s.render({ ingress: { enabled: true, tls: [] } })).exitCode).not.toBe(0);
    },
  },
  {
    says: 'The schema rejects values that weaken these settings',
    file: 'chart/values.schema.json',
    check: async (s) => {
      expect(await s.lint({ securityContext: { privileged: true } })).not.toBe(0);
      expect(await s.lint({ podSecurityContext: { runAsNonRoot: false } })).not.toBe(0);
    },
  },
  {
    says: 'it is recorded on the Deployment and printed by `helm install`',
    file: 'chart/templates/deployment.yaml, chart/templates/NOTES.txt',
    check: async (s) => {
      expect(kind((await s.render({ ...exception, securityContext: { privileged: true } })).objects, 'Deployment')!.metadata.annotations).toBeDefined();
      expect(text(s, 'chart/templates/NOTES.txt')).toContain('{{ .Values.securityException.reason }}');
    },
  },
  {
    says: 'Note that the namespace still enforces `restricted`',
    file: 'deploy/namespace.yaml',
    check: (s) => expect(kind(namespaceObjects(s), 'Namespace')!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted'),
  },
  {
    says: 'See [SECURITY.md](SECURITY.md) for the full list',
    file: 'SECURITY.md',
    check: (s) => expect(text(s, 'SECURITY.md')).toContain('## How this service meets the OWASP Docker Top 10'),
  },
];

// ---- reading the statements of the documents ----

/** Sentences of a paragraph or table cell. */
const sentences = (paragraph: string) => paragraph.split(/(?<=[.!?])\s+(?=[A-Z`"*[])/).map((x) => x.trim()).filter(Boolean);

/**
 * The statements of the sections whose heading starts with one of `headings`: each sentence of the OWASP table's
 * third column; each other table row (cells joined by " | "); each sentence of list items and paragraphs.
 */
export function statements(markdown: string, headings: string[]): string[] {
  const found: string[] = [];
  let inSection = false;
  let inCode = false;
  let paragraph: string[] = [];
  let skipTable = false;
  const flush = () => {
    if (paragraph.length) found.push(...sentences(paragraph.join(' ')));
    paragraph = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      inCode = !inCode;
      flush();
      continue;
    }
    if (inCode) continue;
    if (/^#{1,3} /.test(line)) {
      flush();
      inSection = headings.some((h) => line.replace(/^#+ /, '').startsWith(h));
      continue;
    }
    if (!inSection) continue;
    if (!line.startsWith('|')) skipTable = false;
    if (line.startsWith('|')) {
      flush();
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      // The README's environment variable table documents configuration, not security: not a claim.
      if (cells[0] === 'variable') skipTable = true;
      if (skipTable || cells.every((c) => /^-+$/.test(c)) || ['#', 'Severity', 'Component', 'setting'].includes(cells[0]!)) continue;
      if (/^D\d\d$/.test(cells[0]!)) found.push(...sentences(cells[2]!));
      else found.push(cells.join(' | '));
    } else if (!line.trim()) flush();
    else if (/^(\s*[-*]|\d+\.) /.test(line)) {
      flush();
      paragraph.push(line.replace(/^(\s*[-*]|\d+\.) /, ''));
    } else paragraph.push(line.trim());
  }
  flush();
  return found;
}

const SECURITY_SECTIONS = ['How this service meets', 'Scanning and updates', 'Patch policy', 'End of life'];
const README_SECTIONS = ['Configuration', 'Build the image', 'Deploy to Kubernetes', 'What is hardened'];

async function emit(ci: Ci): Promise<Service> {
  const files = new Map([...(await renderService(await answersFor(NAME, { ci })))].map(([p, b]) => [p, b.toString('utf8')]));
  const dir = await mkdtemp(join(tmpdir(), 'chs-claims-'));
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const chartDir = join(dir, 'chart');
  const cache = new Map<string, Promise<{ exitCode: number; stderr: string; objects: KubeObject[] }>>();
  return {
    ci,
    files,
    chartDir,
    render(values = {}) {
      const key = JSON.stringify(values);
      if (!cache.has(key))
        cache.set(
          key,
          helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion }).then((r) => ({
            exitCode: r.exitCode ?? 1,
            stderr: r.stderr,
            objects: r.exitCode === 0 ? parseManifests(r.stdout) : [],
          })),
        );
      return cache.get(key)!;
    },
    lint: async (values) => (await helmLint(chartDir, values)).exitCode ?? 1,
  };
}

const services = {} as Record<Ci, Service>;
const docStatements = {} as Record<Ci, { doc: string; statement: string }[]>;

beforeAll(async () => {
  for (const ci of ['github', 'gitlab'] as const) {
    services[ci] = await emit(ci);
    docStatements[ci] = [
      ...statements(services[ci].files.get('SECURITY.md')!, SECURITY_SECTIONS).map((statement) => ({ doc: 'SECURITY.md', statement })),
      ...statements(services[ci].files.get('README.md')!, README_SECTIONS).map((statement) => ({ doc: 'README.md', statement })),
    ];
  }
});

describe.each(['github', 'gitlab'] as const)('claims of SECURITY.md and README.md (%s)', (ci) => {
  it('every statement has a check in the claims table', () => {
    const unchecked = docStatements[ci].filter(({ statement }) => !CLAIMS.some((c) => statement.includes(c.says)));
    expect(unchecked).toEqual([]);
    expect(docStatements[ci].length).toBeGreaterThan(60);
  });

  it.each(CLAIMS.map((c) => [c.says, c] as const))('%s', async (_says, claim) => {
    const made = docStatements[ci].filter(({ statement }) => statement.includes(claim.says));
    if (made.length === 0) return; // not said in this variant
    try {
      await claim.check(services[ci]);
    } catch (err) {
      if (claim.awaits) (err as Error).message = `awaits ${claim.awaits}: ${(err as Error).message}`;
      throw err;
    }
  });
});

describe('the claims table', () => {
  it('has no entry that neither document makes', () => {
    const stale = CLAIMS.filter((c) => !(['github', 'gitlab'] as const).some((ci) => docStatements[ci].some(({ statement }) => statement.includes(c.says))));
    expect(stale.map((c) => c.says)).toEqual([]);
  });

  it('the statement reader splits sentences, table rows and list items', () => {
    const doc = '## Patch policy\n\n| Severity | a |\n|---|---|\n| HIGH | 30 days |\n\nOne. Two, e.g. three.\n\n1. Step one. Step two.\n- Item\n\n```sh\nnot a claim\n```\n## Other\nNot read.';
    expect(statements(doc, ['Patch policy'])).toEqual(['HIGH | 30 days', 'One.', 'Two, e.g. three.', 'Step one.', 'Step two.', 'Item']);
  });
});
