import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartNames, kubernetesTarget } from '../generators/features/kubernetes.js';
import type { Answers } from '../core/options.js';
import { checkPodSecurity } from '../lib/policy/pod-security.js';
import { gatewayDataPlanes, imageRef, nodeLine, userNamespaceFacts, versions } from '../core/versions.js';
import { baseImages } from '../generators/features/base-image.js';
import { renderService } from '../lib/render-service.js';
import { signingIdentity } from '../generators/features/signing.js';
import { admit } from './support/admission-policy.js';
import { answersFor } from './support/answers.js';
import { parseWorkflow, type Step } from './support/ci-workflows.js';
import { parseGitlab, scriptLines } from './support/ci-facts.js';
import { assumedImage } from '../core/image.js';
import { helmLint, helmTemplate, type KubeObject, parseManifests } from './support/kubernetes.js';

// Every concrete statement of the emitted SECURITY.md and of the README's security sections, held against the
// files it is about. The statements are read from the documents (table rows, list items, sentences); each must
// match an entry of CLAIMS, whose check asserts it on the emitted files. A new sentence without a check fails.

type Ci = 'github' | 'gitlab';
/** The services whose documents are read: each CI system, and the backing services (their own sections). */
const VARIANTS = {
  github: {},
  gitlab: { ci: 'gitlab' },
  'github-postgres-redis': { database: 'postgres', rateLimitStore: 'redis' },
  'gitlab-mysql': { ci: 'gitlab', database: 'mysql' },
  'github-dhi': { base: 'dhi', platforms: 'linux/arm64' },
  'gitlab-dhi': { ci: 'gitlab', base: 'dhi' },
} as const satisfies Record<string, Partial<Record<keyof Answers, string>>>;
type Variant = keyof typeof VARIANTS;
interface Service {
  ci: Ci;
  /** The answers beyond the defaults. */
  given: Partial<Record<keyof Answers, string>>;
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
/** A GitLab job's script; for the per-platform image jobs (`image-push` → image-push-linux-amd64, …), all of them. */
const script = (s: Service, job: string) => {
  const { jobs } = parseGitlab(text(s, '.gitlab-ci.yml'));
  const ids = jobs[job] ? [job] : Object.keys(jobs).filter((id) => id.startsWith(`${job}-linux-`));
  return ids.map((id) => scriptLines(jobs[id]!).join('\n')).join('\n');
};
const namespaceObjects = (s: Service) => parseManifests(text(s, 'deploy/namespace.yaml'));
const imagePolicy = (s: Service) => parseManifests(text(s, 'deploy/image-policy.yaml'));
const FACTS = JSON.parse(readFileSync(new URL('../data/admission-facts.json', import.meta.url), 'utf8'));
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

/** Each platform is built on its own native runner (data/ci-facts.json multiArch). */
async function expectNativeBuilds(s: Service, platforms: string[]) {
  const runners = CI_FACTS.multiArch[s.ci].runners as Record<string, string>;
  if (s.ci === 'github') {
    const include = (workflow(s, 'container').jobs.publish as { strategy?: { matrix?: { include?: { platform: string; runner: string }[] } } }).strategy?.matrix?.include;
    expect(include?.map((i) => [i.platform, i.runner])).toEqual(platforms.map((p) => [p, runners[p]]));
  } else {
    for (const p of platforms) expect(JSON.stringify(gitlab(s))).toContain(runners[p]!);
  }
}

/** --base dhi: CI logs in to dhi.io with the documented secrets and verifies both base images before building. */
function expectDhiLoginAndVerify(s: Service) {
  const all = s.ci === 'github' ? JSON.stringify(workflow(s, 'container')) : JSON.stringify(gitlab(s));
  for (const secret of ['DHI_USERNAME', 'DHI_TOKEN']) expect(all).toContain(secret);
  expect(all).toContain('dhi.io');
  expect(all).toContain('docker scout attest get --predicate-type https://cyclonedx.org/bom/v1.6 --verify');
}

function expectDigestPins(s: Service) {
  const froms = fromLines(s);
  expect(froms.length).toBeGreaterThan(0);
  for (const from of froms) expect(from).toMatch(/@sha256:[0-9a-f]{64}/);
}

/** The signing command: cosign's legacy format, the one every documented verifier accepts (data/admission-facts.json). */
const LEGACY_SIGN = 'cosign sign --yes --new-bundle-format=false --use-signing-config=false "${IMAGE}@${DIGEST}"';

async function expectPublishByDigestSigned(s: Service) {
  if (s.ci === 'github') {
    const job = workflow(s, 'container').jobs.publish!;
    expect(job.if).toContain('default_branch');
    expect(job.if).toContain("startsWith(github.ref, 'refs/tags/v')");
    const all = JSON.stringify(job.steps);
    expect(all).toContain('push-by-digest=true');
    expect(job.steps!.some((st) => trivyGate(st, 'image') && String(st.with?.['image-ref']).includes('steps.build.outputs.digest'))).toBe(true);
    // The index of the platform digests is what is signed.
    const sign = workflow(s, 'container').jobs.merge!.steps!.find((st) => st.run?.includes('cosign sign'))!;
    expect(sign.env?.DIGEST).toBe('${{ steps.index.outputs.digest }}');
    expect(sign.run).toContain(LEGACY_SIGN);
  } else {
    const ci = gitlab(s);
    const { jobs } = parseGitlab(text(s, '.gitlab-ci.yml'));
    for (const id of Object.keys(jobs).filter((j) => j.startsWith('image-push-'))) expect(JSON.stringify(jobs[id]!.rules), id).toContain('$CI_DEFAULT_BRANCH');
    expect(script(s, 'image-push')).toContain('push-by-digest=true');
    expect(script(s, 'image-verify')).toMatch(/--exit-code 1 "\$\{IMAGE\}@\$DIGEST_(AMD64|ARM64)"/);
    expect(script(s, 'image-sign')).toContain(LEGACY_SIGN);
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

// ---- the backing services (--database, --rate-limit-store redis) ----
type Spec = { policyTypes: string[]; ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } }[] }[]; egress: { to?: unknown[]; ports: { port: number }[] }[] };
const hasDatabase = (s: Service) => s.given.database === 'postgres' || s.given.database === 'mysql';
const hasRedis = (s: Service) => s.given.rateLimitStore === 'redis';
/** The ports the backing-services NetworkPolicy opens: the database's, then Redis's. */
const backingPorts = (s: Service) => [...(hasDatabase(s) ? [s.given.database === 'mysql' ? 3306 : 5432] : []), ...(hasRedis(s) ? [6379] : [])];
const policyNamed = (objects: KubeObject[], name: string) => objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name)?.spec as Spec | undefined;
const servicePolicy = (objects: KubeObject[]) => policyNamed(objects, NAME)!;
const backingPolicy = (objects: KubeObject[]) => policyNamed(objects, `${NAME}-backing-services`);
const egressPorts = (spec: Spec) => spec.egress.flatMap((e) => e.ports.map((p) => p.port));
const job = (objects: KubeObject[]) => kind(objects, 'Job')!.spec.template.spec;
const envOf = (container: { env: { name: string; value: string }[] }) => Object.fromEntries(container.env.map((e) => [e.name, e.value]));
/** The fenced block after a heading of the README: the grants, the ACL line. */
const readmeBlock = (s: Service, heading: string) => /```\w*\n([\s\S]*?)```/.exec(text(s, 'README.md').slice(text(s, 'README.md').indexOf(heading)))![1]!;
/** The SQL the service itself sends: every statement of its driver, none written by the migrations Job. */
const serviceSql = (s: Service) => /GREETING_SQL = \{([\s\S]*?)\n\};/.exec(text(s, 'src/database-driver.ts'))![1]!;
const CI_FILE = (s: Service) => (s.ci === 'github' ? '.github/workflows/ci.yml' : '.gitlab-ci.yml');

/**
 * The end-to-end tests that run the emitted service against real servers (PostgreSQL, MariaDB, Redis), under the
 * pod's constraints: a claim about what the running service does names the test that shows it.
 */
const CI_FACTS = JSON.parse(readFileSync(new URL('../data/ci-facts.json', import.meta.url), 'utf8'));
const E2E = readFileSync(new URL('./backing-services.e2e.test.ts', import.meta.url), 'utf8');
/** The generator's end-to-end test of the emitted service behind real proxies (nginx, HAProxy). */
const APP_E2E = readFileSync(new URL('./app-service.e2e.test.ts', import.meta.url), 'utf8');
const expectE2e = (title: string) => expect(E2E, `test/backing-services.e2e.test.ts has no test "${title}"`).toContain(title);

/** The base images the service was made with (--base), and its runtime user. */
function base(s: Service) {
  const answers = { base: (s.given.base ?? 'distroless') as Answers['base'], nodeVersion: Number(s.given.nodeVersion ?? versions.node.defaultMajor) };
  return baseImages(answers);
}
const expectRuntimeBase = (s: Service) => expect(fromLines(s).at(-1)).toMatch(new RegExp(`^FROM ${escapeRegExp(imageRef(base(s).runtime))} AS runtime$`));
const escapeRegExp = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const CLAIMS: Claim[] = [
  // ---- SECURITY.md: OWASP Docker Top 10 ----
  {
    says: 'The image runs as the ',
    file: 'Dockerfile',
    check: (s) => {
      const { uid, userName, title } = base(s);
      expect(text(s, 'SECURITY.md')).toContain(`The image runs as the ${title} \`${userName}\` user, numeric \`USER ${uid}:${uid}\``);
      expect(dockerfile(s)).toMatch(new RegExp(`^USER ${uid}:${uid}$`, 'm'));
      expectRuntimeBase(s);
    },
  },
  {
    says: 'The chart sets `runAsNonRoot: true`, `runAsUser: ',
    file: 'chart/',
    check: async (s) => {
      const { uid } = base(s);
      expect(text(s, 'SECURITY.md')).toContain(`The chart sets \`runAsNonRoot: true\`, \`runAsUser: ${uid}\` and \`allowPrivilegeEscalation: false\``);
      const spec = pod((await s.render()).objects);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid });
      expect(spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, allowPrivilegeEscalation: false });
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
    says: "The chart's NetworkPolicy lets only the proxies of the data plane that routes to the service in (`networkPolicy.dataPlane`: the Gateway's, or the ingress controller's), on the service port, and only DNS out",
    file: 'chart/templates/networkpolicy.yaml',
    check: async (s) => {
      const { objects } = await s.render();
      const policy = servicePolicy(objects);
      // The default data plane (infrastructure-labels): the Gateway's namespace and the label the platform sets.
      const plane = gatewayDataPlanes.dataPlanes[(s.given.dataPlane as Answers['dataPlane'] | undefined) ?? 'infrastructure-labels'];
      const fill = (v: string) => v.replace('{gatewayName}', gatewayDataPlanes.gateway.name).replace('{gatewayNamespace}', gatewayDataPlanes.gateway.namespace);
      expect(policy.ingress).toEqual([
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': fill(plane.namespace!) } },
              podSelector: { matchLabels: Object.fromEntries(Object.entries(plane.podLabels!).map(([k, v]) => [k, fill(v)])) },
            },
          ],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ]);
      expect(egressPorts(policy)).toEqual([53, 53]);
      // "plus the database's port", "plus Redis's port": the backing services' policy, egress only.
      expect(backingPolicy(objects) && egressPorts(backingPolicy(objects)!)).toEqual(backingPorts(s).length ? backingPorts(s) : undefined);
      if (backingPorts(s).length) expect(backingPolicy(objects)!.policyTypes).toEqual(['Egress']);
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
    says: 'The runtime image is ',
    file: 'Dockerfile',
    // No shell and no package manager in either base: data/base-images.json (distroless `absent`, DHI `absent`),
    // held for the stand-ins in test/image-standins.e2e.test.ts.
    check: (s) => {
      const { title, runtime } = base(s);
      expect(text(s, 'SECURITY.md')).toContain(`The runtime image is ${title} (\`${runtime.image}:${runtime.tag}\`): no shell, no package manager.`);
      expectRuntimeBase(s);
    },
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
      // Exec form, the service itself as the one process (under the image's node).
      const cmd = [...base(s).nodeCommand, 'dist/server.js'].map((w) => JSON.stringify(w)).join(', ');
      expect(dockerfile(s)).toMatch(new RegExp(`^CMD ${escapeRegExp(`[${cmd}]`)}$`, 'm'));
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
        const all = JSON.stringify(steps(s, 'container', 'merge'));
        expect(all).toContain('cosign attest --yes --type cyclonedx');
        // "and a build provenance attestation"
        expect(all).toContain('actions/attest-build-provenance');
      } else expect(script(s, 'image-sign')).toMatch(/cosign attest --yes --type cyclonedx --predicate sbom-linux-(amd|arm)64\.cdx\.json "\$\{IMAGE\}@\$DIGEST_(AMD|ARM)64"/);
    },
  },
  {
    says: 'Deploy by digest with the chart value `image.digest`',
    file: 'chart/',
    // No image named by default: the deploy sets image.repository too (test/support/kubernetes.ts).
    check: async (s) =>
      expect(pod((await s.render({ image: { digest: DIGEST } })).objects).containers[0].image).toBe(
        `${assumedImage({ image: '', ci: s.ci, name: NAME, owner: 'platform' })}@${DIGEST}`,
      ),
  },
  {
    says: "The chart's `image.repository` is empty until you deploy: set it, with `image.digest`, to what the publish job printed",
    file: 'chart/values.yaml, chart/templates/_helpers.tpl, CI',
    check: async (s) => {
      expect(parse(text(s, 'chart/values.yaml')).image.repository).toBe('');
      expect(text(s, 'chart/templates/_helpers.tpl')).toContain('required "image.repository is not set: set it to the image CI published');
      // The publish jobs print the name and the digest.
      const printed = s.ci === 'gitlab' ? text(s, '.gitlab-ci.yml') : text(s, '.github/workflows/container.yml');
      expect(printed).toMatch(/Published \$\{IMAGE\}@\$\{DIGEST\}.*: deploy this index with the chart values image\.repository=\$\{IMAGE\} and image\.digest=\$\{DIGEST\}/);
    },
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
    says: 'Application files are owned by root (`COPY --chown=0:',
    file: 'Dockerfile',
    check: (s) => {
      const { uid } = base(s);
      expect(text(s, 'SECURITY.md')).toContain(`Application files are owned by root (\`COPY --chown=0:${uid}\`)`);
      const runtime = dockerfile(s).slice(dockerfile(s).lastIndexOf('\nFROM '));
      const copies = runtime.split('\n').filter((l) => l.startsWith('COPY '));
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect(copy).toContain(`--chown=0:${uid}`);
    },
  },
  {
    // Built and held for real (modes, writes as 65532, reads as another user) in test/image-service.e2e.test.ts.
    says: 'can read them and other users cannot; neither the service nor its group can write them',
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
  // ---- SECURITY.md: supply chain ----
  {
    says: "CI | The image is pushed by digest only from main or a `v*` tag, after every check passed; each platform's pushed digest is scanned (Trivy), and the index of them is signed keylessly with cosign by",
    file: 'CI',
    check: async (s) => {
      await expectPublishByDigestSigned(s);
      if (s.ci === 'github') {
        expect(workflow(s, 'container').jobs.publish!.needs).toEqual(['ci', 'chart', 'security', 'hadolint', 'base-images', 'scan']);
        expect(workflow(s, 'container').jobs.merge!.needs).toEqual(['publish']);
      } else {
        const { jobs } = parseGitlab(text(s, '.gitlab-ci.yml'));
        for (const id of Object.keys(jobs).filter((j) => j.startsWith('image-push-'))) expect(JSON.stringify(jobs[id]!.needs), id).toContain('check');
        expect(jobs['image-sign']!.needs).toContain('image-index');
      }
    },
  },
  {
    says: 'registry | A release tag is written only after the digests are scanned and the index is signed',
    file: 'CI',
    check: (s) => {
      if (s.ci === 'github') {
        const names = steps(s, 'container', 'merge').map((st) => String(st.name ?? st.uses));
        const at = (prefix: string) => names.findIndex((n) => n.startsWith(prefix));
        // The platform digests were scanned in publish, which merge needs.
        expect(workflow(s, 'container').jobs.merge!.needs).toEqual(['publish']);
        expect(at('Sign the index digest')).toBeGreaterThan(-1);
        expect(at('Sign the index digest')).toBeLessThan(at('Tag the verified index'));
      } else expect(gitlab(s)['image-tag']!.needs).toEqual(['image-index', 'image-sign']);
    },
  },
  {
    says: 'admission | `deploy/image-policy.yaml`, a ValidatingAdmissionPolicy: the namespace',
    file: 'deploy/image-policy.yaml',
    // test/image-policy.test.ts runs the policy against every rendered workload and every way around it.
    check: async (s) => {
      const [policy] = imagePolicy(s);
      const deployment = kind((await s.render({ image: { digest: DIGEST } })).objects, 'Deployment')!;
      expect(admit(policy!, deployment)).toEqual({ admitted: true });
      const image = deployment.spec.template.spec.containers[0].image.split('@')[0];
      const withImage = (change: (spec: any) => void) => {
        const copy = structuredClone(deployment);
        change(copy.spec.template.spec);
        return admit(policy!, copy);
      };
      expect(withImage((p) => (p.containers[0].image = `${image}:1.0.0`))).toEqual({ admitted: false, message: expect.stringContaining(`image "${image}:1.0.0" is not pinned by digest`) });
      expect(withImage((p) => (p.containers[0].image = `docker.io/library/busybox@${DIGEST}`))).toEqual({ admitted: false, message: expect.stringContaining('is not from an allowed repository') });
      expect(withImage((p) => (p.initContainers = [{ name: 'i', image: 'busybox' }])).admitted).toBe(false);
      expect(withImage((p) => (p.ephemeralContainers = [{ name: 'e', image: 'busybox' }])).admitted).toBe(false);
    },
  },
  {
    says: 'admission, with a verifier installed | `verify/policy-controller.yaml` (sigstore policy-controller) or `verify/kyverno.yaml` (Kyverno)',
    file: 'verify/',
    check: (s) => {
      expect(parseManifests(text(s, 'verify/policy-controller.yaml')).map((o) => o.kind)).toEqual(['ClusterImagePolicy']);
      expect(parseManifests(text(s, 'verify/kyverno.yaml')).map((o) => o.kind)).toEqual(['ImageValidatingPolicy']);
      // "Nothing verifies signatures in the cluster until you install one": deploy/ holds no verifier's object.
      const deployKinds = [...s.files.keys()].filter((p) => p.startsWith('deploy/')).flatMap((p) => parseManifests(text(s, p)).map((o) => o.kind));
      expect(deployKinds.filter((k) => /ImagePolicy|ImageValidatingPolicy|ClusterPolicy/.test(k))).toEqual([]);
    },
  },
  {
    says: "The pipeline's signing identity is the OIDC issuer",
    file: 'verify/, CI',
    // test/verification-kit.test.ts holds the subject against the signing runs of the emitted pipeline.
    check: async (s) => {
      const identity = signingIdentity(await answersFor(NAME, s.given));
      expect(identity.issuer).toBe(s.ci === 'github' ? 'https://token.actions.githubusercontent.com' : 'https://gitlab.com');
      expect(new RegExp(identity.subjectRegExp).test(identity.subjectOnMain)).toBe(true);
      expect(text(s, 'SECURITY.md')).toContain(`the OIDC issuer \`${identity.issuer}\``);
    },
  },
  {
    says: 'The image name does not say which repository builds it: the identity assumes',
    file: 'SECURITY.md, verify/, deploy/image-policy.yaml',
    // No image named (CI names it at run time): the repository is assumed to be <owner>/<name>, in every file that names it.
    check: (s) => {
      const repository = `platform/${NAME}`;
      expect(text(s, 'SECURITY.md')).toContain(`the identity assumes \`${repository}\``);
      for (const path of ['verify/kyverno.yaml', 'verify/policy-controller.yaml', 'deploy/image-policy.yaml']) expect(text(s, path), path).toContain(repository);
    },
  },
  {
    says: 'If the service lives elsewhere, change the repository in the commands below and in `verify/`',
    file: 'SECURITY.md, verify/',
    check: (s) => {
      const security = text(s, 'SECURITY.md');
      const commands = security.slice(security.indexOf('If the service lives elsewhere'));
      expect(commands).toMatch(new RegExp(`\`\`\`sh[\\s\\S]*platform/${NAME}`));
    },
  },
  {
    says: "The pipeline publishes from the project's default branch, and the identity assumes it is `main`",
    file: '.gitlab-ci.yml, verify/',
    check: (s) => {
      expect(JSON.stringify(gitlab(s)['.publish-rules'])).toContain('$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH');
      expect(parseManifests(text(s, 'verify/kyverno.yaml'))[0]!.spec.attestors[0].cosign.keyless.identities[0].subjectRegExp).toContain('@refs/(heads/main|');
    },
  },
  {
    says: '`verify/` and the commands below carry exactly this identity.',
    file: 'verify/, SECURITY.md',
    check: (s) => {
      const cip = parseManifests(text(s, 'verify/policy-controller.yaml'))[0]!.spec.authorities[0].keyless.identities[0];
      const ivp = parseManifests(text(s, 'verify/kyverno.yaml'))[0]!.spec.attestors[0].cosign.keyless.identities[0];
      expect(ivp).toEqual(cip);
      expect(text(s, 'SECURITY.md')).toContain(`cosign verify --certificate-oidc-issuer ${cip.issuer} \\\n  --certificate-identity-regexp '${cip.subjectRegExp}'`);
    },
  },
  {
    says: 'Verify a published digest by hand:',
    file: 'SECURITY.md',
    check: (s) => {
      const block = /```sh\n(cosign verify [\s\S]*?)```/.exec(text(s, 'SECURITY.md'))![1]!;
      expect(block).toContain('cosign verify-attestation --type cyclonedx');
      expect(block.includes('gh attestation verify oci://')).toBe(s.ci === 'github');
    },
  },
  {
    says: 'cosign 3 signs in the Sigstore bundle format by default, and sigstore policy-controller (v0.15.1, its newest release) does not verify image signatures in that format',
    file: 'data/admission-facts.json',
    check: () => {
      expect(FACTS.signing.cosign.defaultFormat).toContain('Sigstore bundle');
      expect(FACTS.signing.verifiers.policyController).toMatchObject({ version: 'v0.15.1', acceptsCosignV3Bundle: false });
      expect(FACTS.signing.verifiers.policyController.source).toContain('#1899, #1958');
    },
  },
  {
    says: 'The pipeline therefore signs with `--new-bundle-format=false`, the legacy format that policy-controller, Kyverno and `cosign verify` all accept.',
    file: 'CI, data/admission-facts.json',
    check: async (s) => {
      await expectPublishByDigestSigned(s);
      const { policyController, kyverno } = FACTS.signing.verifiers;
      expect([policyController.acceptsLegacy, kyverno.acceptsLegacy]).toEqual([true, true]);
      expect(FACTS.signing.cosign.verifyBoth).toContain('falls back to the legacy format');
    },
  },
  {
    says: 'The SBOM attestation',
    file: 'CI',
    check: (s) => {
      const pipeline = s.ci === 'github' ? text(s, '.github/workflows/container.yml') : text(s, '.gitlab-ci.yml');
      const attest = pipeline.split('\n').find((l) => l.includes('cosign attest '))!;
      expect(attest).not.toContain('--new-bundle-format=false');
      if (s.ci === 'github') expect(pipeline).toContain('actions/attest-build-provenance@');
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
      const { jobs } = parseGitlab(text(s, '.gitlab-ci.yml'));
      const imageScans = Object.keys(jobs).filter((j) => j.startsWith('image-scan-'));
      expect(imageScans.length).toBeGreaterThan(0);
      for (const job of ['trivy-dependencies', 'trivy-config', ...imageScans, 'gitleaks', 'hadolint', 'kubeconform', 'kube-linter']) {
        expect(jobs[job], job).toBeDefined();
        expect(jobs[job]!.rules, job).toBeUndefined();
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
    check: (s) => expect(text(s, 'SECURITY.md')).toContain(`(checked ${base(s).runtime.checked})`),
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
      expect(`${base(s).runtime.image}:${base(s).runtime.tag}`).toMatch(/node(js)?26-debian13|node:26-debian13/);
      expectRuntimeBase(s);
    },
  },
  {
    says: 'Debian 13 "trixie", the base image\'s OS',
    file: 'Dockerfile',
    check: (s) => {
      expect(fromLines(s).at(-1)).toMatch(new RegExp(`-debian${versions.debian.release}[:@]`));
      expect(text(s, 'SECURITY.md')).toContain(`| ${versions.debian.securitySupportEnds} |`);
    },
  },
  {
    says: ' (the first of Node.js 26 and Debian 13 to end) | 2028-08-09',
    file: 'Dockerfile',
    check: (s) => {
      const { runtime } = base(s);
      expect(text(s, 'SECURITY.md')).toContain(`| Base image ${runtime.image}:${runtime.tag} (the first of Node.js 26`);
      expectRuntimeBase(s);
    },
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
    says: 'pinned by digest: no shell, no package manager, user ',
    file: 'Dockerfile',
    check: (s) => {
      const { uid, runtime, title } = base(s);
      expect(text(s, 'README.md').replace(/\s+/g, ' ')).toContain(`The image is \`${runtime.image}:${runtime.tag}\` (${title}) pinned by digest: no shell, no package manager, user ${uid}.`);
      expectDigestPins(s);
      expectRuntimeBase(s);
      expect(dockerfile(s)).toMatch(new RegExp(`^USER ${uid}:${uid}$`, 'm'));
    },
  },
  {
    says: "CI builds it for ",
    file: 'CI',
    check: async (s) => {
      const platforms = (s.given.platforms ?? 'linux/amd64,linux/arm64').split(',');
      expect(text(s, 'README.md').replace(/\s+/g, ' ')).toContain(`CI builds it for ${platforms.join(' and ')}, each on a native runner, scans each platform's image, and publishes one index of them, signed and attested, by digest`);
      await expectPublishByDigestSigned(s);
      await expectNativeBuilds(s, platforms);
    },
  },
  {
    says: 'Docker Hardened Images are pulled from `dhi.io`, which needs a Docker ID',
    file: 'Dockerfile, CI',
    check: (s) => {
      const where = s.ci === 'gitlab' ? 'masked CI/CD variables' : 'repository secrets';
      expect(text(s, 'README.md').replace(/\s+/g, ' ')).toContain(`CI logs in with \`DHI_USERNAME\` and \`DHI_TOKEN\` (${where};`);
      for (const from of fromLines(s).slice(0)) expect(from).toMatch(/^FROM (dhi\.io\/node:|docker\/dockerfile)/);
      expectDhiLoginAndVerify(s);
    },
  },
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
    says: "CI names the image at run time (its repository's registry): the policy assumes this repository",
    file: 'deploy/image-policy.yaml, chart/values.yaml',
    check: (s) => {
      // The chart names no image; the policy admits the assumed repository, <owner>/<name> on the CI's registry.
      expect(parse(text(s, 'chart/values.yaml')).image.repository).toBe('');
      expect(text(s, 'deploy/image-policy.yaml')).toContain(`expression: "['${assumedImage({ image: '', ci: s.ci, name: NAME, owner: 'platform' })}']"`);
    },
  },
  {
    says: '`deploy/image-policy.yaml` makes the namespace refuse any image that is not',
    file: 'deploy/image-policy.yaml, chart/',
    check: async (s) => {
      const [policy] = imagePolicy(s);
      expect(admit(policy!, kind((await s.render({ image: { digest: DIGEST } })).objects, 'Deployment')!)).toEqual({ admitted: true });
      expect(admit(policy!, kind((await s.render()).objects, 'Deployment')!)).toEqual({ admitted: false, message: expect.stringContaining('is not pinned by digest') });
    },
  },
  {
    says: 'To verify signatures as well, see SECURITY.md, "Supply chain".',
    file: 'SECURITY.md',
    check: (s) => expect(text(s, 'SECURITY.md')).toContain('\n## Supply chain: what is enforced where\n'),
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
    says: '`runAsNonRoot: true`, `runAsUser/runAsGroup/fsGroup: ',
    file: 'chart/',
    check: async (s) => {
      const { uid, title, userName } = base(s);
      expect(text(s, 'README.md')).toContain(`\`runAsNonRoot: true\`, \`runAsUser/runAsGroup/fsGroup: ${uid}\` | runs as the ${title} \`${userName}\` user, never root`);
      expect(pod((await s.render()).objects).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid });
    },
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
    says: "NetworkPolicy | ingress only from the data plane's proxies (`networkPolicy.dataPlane`)",
    file: 'chart/',
    check: async (s) => {
      const { objects } = await s.render({ metrics: { enabled: true } });
      const policy = servicePolicy(objects);
      expect(policy.ingress.map((r) => r.from[0]!.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])).toEqual([gatewayDataPlanes.gateway.namespace, 'monitoring']);
      expect(policy.egress).toHaveLength(1);
      if (backingPorts(s).length) expect(egressPorts(backingPolicy(objects)!)).toEqual(backingPorts(s));
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
  // ---- chart README: client addresses behind a proxy (config.trustProxy) ----
  {
    says: "The rate limit, the per-address connection cap and the request log use the client's address.",
    file: 'src/http-server.ts',
    check: (s) => {
      const server = text(s, 'src/http-server.ts');
      expect(server).toContain("const client = clientAddress(socket.remoteAddress, req.headers['x-forwarded-for'], trusted);");
      expect(server).toContain('limiter.hit(rateLimitKey(client.ip), now)');
      expect(server).toContain('if (trusted?.(ip)) return;');
    },
  },
  {
    says: 'Behind a proxy every connection comes from the proxy, so the service reads `X-Forwarded-For`, but only from peers in `config.trustProxy`',
    file: 'chart/templates/deployment.yaml, src/client-address.ts',
    check: async (s) => {
      const env = async (values: Record<string, unknown>) =>
        pod((await s.render(values)).objects).containers[0].env.find((e: { name: string }) => e.name === 'TRUST_PROXY')?.value;
      expect(await env({ config: { trustProxy: ['10.244.0.0/16', 'fd00::/8'] } })).toBe('10.244.0.0/16,fd00::/8');
      expect(await env({ httpRoute: { enabled: false } })).toBeUndefined();
      expect(text(s, 'src/client-address.ts')).toContain('export type ProxyTrust = (address: string) => boolean;');
    },
  },
  {
    says: 'Any other caller is the client itself, whatever it sends, and is held to the per-address cap: a hop count would trust whoever reaches the pod',
    file: 'src/config.ts, chart/values.schema.json',
    check: async (s) => {
      expect(text(s, 'src/config.ts')).toContain('a hop count would trust any caller that reaches the service directly');
      expect(await s.lint({ config: { trustProxy: ['1'] } })).not.toBe(0);
      expect(text(s, 'test/hostile-traffic.test.ts')).toContain('a caller outside TRUST_PROXY is the client whatever it forwards: limited and capped as itself');
    },
  },
  {
    says: 'Proxy in front | `config.trustProxy`',
    file: 'chart/values.yaml',
    check: (s) => expect(parse(text(s, 'chart/values.yaml')).config.trustProxy).toEqual([]),
  },
  {
    says: 'ingress-nginx, Traefik, HAProxy Ingress, Envoy Gateway (pods in the cluster) | the CIDR their pods get',
    file: 'chart/templates/deployment.yaml',
    check: (s) =>
      expect(text(s, 'chart/templates/deployment.yaml')).toMatch(/else if or \.Values\.ingress\.enabled \(default dict \.Values\.httpRoute\)\.enabled \}\}\n.*\n\s+- name: TRUST_PROXY\n\s+value: "10\.0\.0\.0\/8,172\.16\.0\.0\/12,192\.168\.0\.0\/16,fc00::\/7"/),
  },
  {
    says: 'a cloud load balancer sending to pod IPs (AWS ALB/NLB IP mode, GKE container-native) | the load balancer',
    file: 'chart/values.schema.json',
    check: async (s) => expect(await s.lint({ config: { trustProxy: ['192.0.2.0/24', '2001:db8::/32'] } })).toBe(0),
  },
  {
    says: 'none (a Service of type LoadBalancer straight to the pods) | leave it empty with the HTTPRoute and the Ingress off: nobody is trusted',
    file: 'chart/templates/deployment.yaml',
    check: async (s) => expect(JSON.stringify(pod((await s.render({ httpRoute: { enabled: false } })).objects).containers[0].env)).not.toContain('TRUST_PROXY'),
  },
  // ---- README.md: behind a pooling proxy, pipelining, probes ----
  {
    says: 'Behind a proxy that pools its connections (ingress-nginx, HAProxy, Envoy, cloud load balancers):',
    file: 'test/app-service.e2e.test.ts (generator)',
    check: () => {
      expect(APP_E2E).toContain("['nginx pooling upstream connections as ingress-nginx does', (port: number) => startNginx(port, { pool: true })]");
      expect(APP_E2E).toContain("['HAProxy with http-reuse always', startHaproxy]");
    },
  },
  {
    says: "An answer sent before its request's body was read (413, 415, 429, a 404 or a route that takes no body) says `Connection: close`",
    file: 'src/http-server.ts, test/early-answers.test.ts',
    check: (s) => {
      expect(text(s, 'src/http-server.ts')).toContain("this.setHeader('connection', 'close');");
      expect(text(s, 'src/http-server.ts')).toContain('if (connection.closing) return;');
      expect(text(s, 'test/early-answers.test.ts')).toContain("assert.equal(ran, false, 'the request sent after the early answer did not reach the app');");
      expect(APP_E2E).toContain('mixed traffic: no 502 for well-behaved clients, no request run without its answer');
    },
  },
  {
    says: 'Pipelining is bounded per connection: at most 16 requests run at once, none while 16 KiB of answers are unread',
    file: 'src/pipeline.ts',
    check: (s) => {
      expect(text(s, 'src/pipeline.ts')).toContain('export const PIPELINE_DEPTH = 16;');
      expect(text(s, 'src/pipeline.ts')).toContain('!this.#socket.writableNeedDrain');
    },
  },
  {
    says: "Node's parser takes a whole read at once",
    file: 'src/pipeline.ts, test/pipelining.test.ts',
    check: (s) => {
      expect(text(s, 'src/pipeline.ts')).toContain('export const PARSE_SLICE = 2 * 1024;');
      expect(text(s, 'src/pipeline.ts')).toContain('export const PIPELINE_QUEUE = 128;');
      expect(text(s, 'src/pipeline.ts')).toContain('export const SLICING_WINDOW_MS = 60_000;');
      expect(text(s, 'src/pipeline.ts')).toContain('for (const gate of gates) if (gate !== this) gate.#feedInSlices();');
      expect(text(s, 'test/pipelining.test.ts')).toContain("assert.equal(a.sliced, true, 'every open connection is sliced at once');");
      expect(text(s, 'test/pipelining.test.ts')).toContain("assert.equal(gate.admit(() => {}), false, 'the client is disconnected');");
    },
  },
  {
    says: "Until then connections keep Node's faster native reading",
    file: 'src/pipeline.ts, src/side-listener.ts, test/pipelining.test.ts',
    // The generator's bench/instructions.mjs and README measure what the native reading saves.
    check: (s) => {
      expect(text(s, 'src/pipeline.ts')).toContain('if (Date.now() < slicingUntil) this.#feedInSlices();');
      expect(text(s, 'src/pipeline.ts')).toContain('export const PROCESS_QUEUE = 8 * 1024;');
      expect(text(s, 'src/pipeline.ts')).toContain('waitingInProcess >= PROCESS_QUEUE) return false;');
      expect(text(s, 'src/side-listener.ts')).toContain('if (!gate.admit(run)) req.socket.destroy();');
      expect(text(s, 'test/pipelining.test.ts')).toContain("assert.equal(a.sliced, false, 'one request at a time is not pipelining');");
      expect(text(s, 'test/pipelining.test.ts')).toContain("{ name: 'the probe port', logged: { msg: 'probe listener started', key: 'probePort' }");
    },
  },
  {
    says: 'Measured with 200 connections pipelining `GET /healthz` and never reading',
    file: 'test/pipelining.test.ts, chart/values.yaml',
    // test/app-config-docs.test.ts holds the figures against the test's constants.
    check: (s) => {
      expect(text(s, 'test/pipelining.test.ts')).toContain('export const ATTACK = { connections: 200,');
      expect(parse(text(s, 'chart/values.yaml')).resources.limits.memory).toBe('256Mi');
    },
  },
  {
    says: "The kubelet's probes ask `PROBE_PORT`, a listener of its own that the Service does not expose and the NetworkPolicy admits nobody to",
    file: 'chart/templates/, test/probe-listener.test.ts',
    check: async (s) => {
      const { objects } = await s.render();
      const container = pod(objects).containers[0];
      const probePort = container.ports.find((p: { name: string }) => p.name === 'probes').containerPort;
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(container[probe].httpGet.port).toBe('probes');
      expect(kind(objects, 'Service')!.spec.ports.map((p: { port: number; targetPort: unknown }) => [p.port, p.targetPort]).flat()).not.toContain(probePort);
      const admitted = objects.filter((o) => o.kind === 'NetworkPolicy').flatMap((o) => o.spec.ingress ?? []);
      expect(admitted.length).toBeGreaterThan(0);
      expect(JSON.stringify(admitted)).not.toContain(String(probePort));
      expect(dockerfile(s)).toContain('process.env.PROBE_PORT||process.env.PORT');
      expect(text(s, 'test/probe-listener.test.ts')).toContain('export const PROBE_ANSWER_BOUND_MS = 1_000;');
    },
  },
  {
    says: 'The metrics port has the same caps.',
    file: 'src/metrics.ts',
    check: (s) => expect(text(s, 'src/metrics.ts')).toContain("await startSideListener('metrics', port, host, logger,"),
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
  },  // ---- SECURITY.md and README.md: the backing services ----
  {
    says: 'passwords are such files, re-read when they change',
    file: 'src/backing-config.ts, src/database.ts, src/shared-rate-limiter.ts, chart/',
    check: async (s) => {
      expect(text(s, 'src/backing-config.ts')).toMatch(/watchFile\(this\.#path, \{ interval: intervalMs/);
      if (hasDatabase(s)) expect(text(s, 'src/database.ts')).toContain('new SecretFile(DATABASE_PASSWORD_FILE, secretsDir');
      if (hasRedis(s)) expect(text(s, 'src/shared-rate-limiter.ts')).toContain('new SecretFile(REDIS_PASSWORD_FILE, dir');
      const container = pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0];
      expect(container.env.map((e: { name: string }) => e.name).filter((n: string) => /PASSWORD/.test(n))).toEqual([]);
      expect(JSON.stringify(container)).not.toMatch(/secretKeyRef|envFrom/);
      expectE2e('a rotated password: the database user gets a new one and the mounted file changes; new connections use it without a restart');
      if (hasRedis(s)) expectE2e('a rotated Redis password: the ACL user holds both, the mounted file changes');
    },
  },
  {
    says: "connection is encrypted (TLS) and verifies the server's certificate and host name against the CA mounted from the chart's",
    file: 'src/database-driver.ts, src/shared-rate-limiter.ts, chart/',
    check: async (s) => {
      const driver = hasDatabase(s) ? text(s, 'src/database-driver.ts') : '';
      // The host name: the host dialled, an IP address against the certificate's IP SANs (mysql2 would check "localhost").
      expect(text(s, 'src/backing-config.ts')).toContain('checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),');
      if (s.given.database === 'postgres') expect(driver).toContain('ssl: config.tls ? verifiedTls(config.host, config.tls) : false,');
      if (s.given.database === 'mysql') expect(driver).toContain('ssl: config.tls ? { ca: config.tls.ca, rejectUnauthorized: true, verifyIdentity: true }');
      if (s.given.database === 'mysql') expect(driver).toContain('(socket as Socket & { _host?: string })._host = config.host;');
      if (hasRedis(s)) expect(text(s, 'src/shared-rate-limiter.ts')).toContain('tls: tls ? verifiedTls(this.#config.host, tls) : undefined,');
      expectE2e('a certificate from the trusted CA naming only DNS:localhost, presented for 127.0.0.1: every client refuses it');
      const spec = pod((await s.render()).objects);
      for (const [which, ca] of [...(hasDatabase(s) ? [['database', `${NAME}-database-ca`]] : []), ...(hasRedis(s) ? [['redis', `${NAME}-redis-ca`]] : [])]) {
        expect(spec.containers[0].volumeMounts).toContainEqual({ name: `${which}-tls`, mountPath: `/run/${which}-tls`, readOnly: true });
        expect(spec.volumes.find((v: { name: string }) => v.name === `${which}-tls`).configMap).toMatchObject({ name: ca, items: [{ key: 'ca.crt', path: 'ca.crt' }] });
      }
      expectE2e('a server certificate the mounted CA did not sign: no connection, /readyz 503, and the log says why');
    },
  },
  {
    says: 'The service refuses to start with TLS off unless `INSECURE_DEV_MODE=true`, which the chart never sets and which logs a warning at every start',
    file: 'src/backing-config.ts, src/server.ts, chart/',
    check: async (s) => {
      expect(text(s, 'src/backing-config.ts')).toContain("_TLS=off would send the ${what} password and data in clear text: refused unless ${INSECURE_DEV_MODE}=true");
      expect(text(s, 'src/server.ts')).toMatch(/warnIfInsecure\(logger, \{ (database: databaseConfig|redis: redisConfig)/);
      const { objects } = await s.render();
      expect(JSON.stringify(objects)).not.toMatch(/INSECURE_DEV_MODE|"(DB|REDIS)_TLS"/);
      // The chart offers no switch for it, and extraEnv is the team's own change.
      expect(await s.lint({ database: { tls: { enabled: false } } })).not.toBe(0);
      const tests = hasDatabase(s) ? text(s, 'test/database-config.test.ts') : text(s, 'test/redis-config.test.ts');
      expect(tests).toContain('the process refuses to start with');
    },
  },
  {
    says: "The service's database user may only read and insert rows; the migrations Job uses the tables' owner, whose password only the Job mounts",
    file: 'README.md, chart/templates/migrations-job.yaml',
    check: async (s) => {
      const grants = readmeBlock(s, '### Users and grants');
      expect(grants).toMatch(s.given.database === 'mysql' ? /GRANT SELECT, INSERT ON my_svc\.\* TO 'my_svc'@'%';/ : /GRANT SELECT, INSERT ON TABLES TO my_svc;/);
      const objects = (await s.render({ secrets: { existingSecret: 's' } })).objects;
      expect(JSON.stringify(pod(objects))).not.toContain('database-migrations');
      expect(job(objects).volumes.find((v: { name: string }) => v.name === 'migrations-secret').secret).toMatchObject({ secretName: `${NAME}-database-migrations`, items: [{ key: 'database-migrations-password', path: 'database-migrations-password' }] });
    },
  },
  {
    says: "Encryption at rest, backups, their encryption and restore tests are the database operator's responsibility",
    file: 'chart/, src/',
    check: async (s) => {
      // Said plainly because nothing here does it: no volume, no backup job.
      const kinds = (await s.render()).objects.map((o) => o.kind);
      for (const k of ['PersistentVolumeClaim', 'CronJob', 'StatefulSet']) expect(kinds).not.toContain(k);
    },
  },
  {
    says: "The Redis user may only count requests under the service's key prefix (README: the ACL); the counts expire with their window and need no backup",
    file: 'README.md, src/shared-rate-limiter.ts, src/redis-config.ts',
    check: (s) => {
      expect(readmeBlock(s, '## Rate-limit store (Redis)')).toContain(`resetkeys '~${NAME}:rate-limit:*' resetchannels -@all +multi +exec +incr +pexpire`);
      expect(text(s, 'src/redis-config.ts')).toContain('keyPrefix: `${SERVICE_NAME}:rate-limit:`');
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain(".pexpire(redisKey, this.windowMs, 'NX')");
      expectE2e("two pods share the rate limit in Redis over verified TLS as the README's ACL user");
    },
  },
  {
    says: 'Passwords are re-read when the mounted Secret changes: rotating one needs no restart (README: rotation)',
    file: 'src/backing-config.ts, chart/',
    check: async (s) => {
      expect(text(s, 'src/backing-config.ts')).toContain("'secret file changed: new connections use the new value'");
      // A subPath mount never sees the kubelet's update.
      expect(JSON.stringify(pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0].volumeMounts)).not.toContain('subPath');
      if (hasDatabase(s)) expectE2e('a rotated password: the database user gets a new one and the mounted file changes; new connections use it without a restart');
      if (hasRedis(s)) expectE2e('a rotated Redis password: the ACL user holds both, the mounted file changes');
    },
  },
  {
    says: 'database through a bounded pool (`src/database.ts`, `src/database-driver.ts`:',
    file: 'package.json, src/database-driver.ts',
    check: (s) => {
      const client = s.given.database === 'mysql' ? 'mysql2' : 'pg';
      const deps = Object.keys(JSON.parse(text(s, 'package.json')).dependencies);
      expect(deps).toContain(client);
      expect(deps).not.toContain(client === 'pg' ? 'mysql2' : 'pg');
      expect(text(s, 'src/database-driver.ts')).toContain(client === 'pg' ? 'max: config.poolMax,' : 'connectionLimit: config.poolMax,');
    },
  },
  {
    says: 'The sample routes `POST /greetings` (`{"name":"Ada"}`) and `GET /greetings?name=Ada` store and count names (`src/greetings.ts`)',
    file: 'src/app.ts, src/greetings.ts',
    check: (s) => {
      expect(text(s, 'src/app.ts')).toMatch(/'\/greetings'/);
      expect(serviceSql(s)).toMatch(/insert: sql`INSERT INTO greetings \(name\) VALUES \((\$1|\?)\)`/);
      expect(serviceSql(s)).toMatch(/count: sql`SELECT COUNT\(\*\) AS count FROM greetings WHERE name = (\$1|\?)`/);
      expect(text(s, 'test/database.integration.test.ts')).toContain('POST /greetings and GET /greetings: values travel as parameters');
    },
  },
  {
    says: 'Statements are constant strings written with the `sql` tag, which takes no `${}`: every value reaches the database as a parameter',
    file: 'src/sql.ts, src/',
    check: (s) => {
      expect(text(s, 'src/sql.ts')).toContain("if (values.length > 0 || strings.length !== 1) throw new TypeError('sql`` takes no ${}: pass values as parameters');");
      for (const [path, content] of s.files) if (path.startsWith('src/')) expect(content, path).not.toMatch(/sql`[^`]*\$\{/);
      // "of a server-side prepared statement": mysql2's execute, never its query, for the service's statements.
      if (s.given.database === 'mysql') expect(text(s, 'src/database-driver.ts')).toContain('connection.execute(statement, [...params] as mysql.ExecuteValues)');
      expect(text(s, 'test/database-config.test.ts')).toContain("SQL is constant text: sql`` refuses a value pasted in");
    },
  },
  {
    says: 'Each pod opens at most `DB_POOL_MAX` connections, with connect, statement and idle timeouts, and closes them on shutdown after the last request, before the process exits',
    file: 'src/database-driver.ts, src/server.ts',
    check: (s) => {
      const driver = text(s, 'src/database-driver.ts');
      const timeouts = s.given.database === 'mysql' ? ['connectTimeout: config.connectTimeoutMs', 'const deadlineMs = config.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS;', 'idleTimeout: config.idleTimeoutMs'] : ['connectionTimeoutMillis: config.connectTimeoutMs', 'statement_timeout: config.statementTimeoutMs', 'idleTimeoutMillis: config.idleTimeoutMs'];
      for (const t of timeouts) expect(driver).toContain(t);
      expect(text(s, 'src/server.ts')).toMatch(/await service\.close\(\);\n[\s\S]*?await database\.close\(\);/);
      expectE2e('and on SIGTERM closes the pool before exiting 0');
    },
  },
  {
    says: '`/readyz` answers 503 while this pod cannot reach its database',
    file: 'src/database.ts',
    check: (s) => {
      expect(text(s, 'src/database.ts')).toContain("return { status: 503 as const, body: { status: 'database_unavailable' } };");
      expectE2e('the database killed mid-load: /readyz answers 503 while /healthz keeps answering 200, and readiness returns with the database');
    },
  },
  {
    says: 'It asks at most once per `DB_READINESS_CACHE_MS`, not at all while queries succeed, and on a connection of its own: a pool full of slow queries does not make the pod unready, only a database that does not answer within 1 s does',
    file: 'src/database.ts',
    check: (s) => {
      const database = text(s, 'src/database.ts');
      expect(database).toContain('if (now - this.#lastSuccessAt < this.#config.readinessCacheMs) return true;');
      expect(database).toContain('const probe = { ...this.#config, poolMax: 1, statementTimeoutMs: READINESS_TIMEOUT_MS };');
      expect(database).toContain('this.#probe.query(sql`SELECT 1`)');
      expect(database).toContain('const READINESS_TIMEOUT_MS = 1_000;');
      expectE2e('asks the database for readiness at most once per DB_READINESS_CACHE_MS');
      expectE2e('/readyz stays 200 while the pool is saturated');
    },
  },
  {
    says: 'When the database is down for every pod, every pod turns unready together, and the Service has no endpoints',
    file: 'src/database.ts, chart/templates/deployment.yaml',
    check: async (s) => {
      expect(pod((await s.render()).objects).containers[0].readinessProbe.httpGet.path).toBe('/readyz');
      expect(text(s, 'src/database.ts')).toContain('if (process.status !== 200 || database === undefined || (await database.available())) return process;');
      expectE2e('the database killed mid-load: /readyz answers 503 while /healthz keeps answering 200');
    },
  },
  {
    says: 'That is the choice made here: a pod that cannot reach its database',
    file: 'src/database.ts',
    check: (s) => expect(text(s, 'src/database.ts')).toContain("return { status: 503 as const, body: { status: 'database_unavailable' } };"),
  },
  {
    says: 'If yours has routes that must keep answering during a database outage, take the database out of readiness (`databaseReadiness` in `src/database.ts`)',
    file: 'src/database.ts, src/app.ts, src/greetings.ts',
    check: (s) => {
      expect(text(s, 'src/database.ts')).toContain('export async function databaseReadiness(lifecycle: Lifecycle, database: Database | undefined)');
      expect(text(s, 'src/app.ts')).toContain('databaseReadiness(');
      expect(text(s, 'src/greetings.ts')).toContain("return { status: 503, body: errorBody(503), headers: { 'retry-after': String(RETRY_AFTER_S) } };");
    },
  },
  {
    says: 'Every query is bounded: at most `DB_CONNECT_TIMEOUT_MS` to get a connection, then `DB_STATEMENT_TIMEOUT_MS` for the statement, which the server ends itself',
    file: 'src/database-driver.ts',
    check: (s) => {
      const driver = text(s, 'src/database-driver.ts');
      const settings =
        s.given.database === 'mysql'
          ? ['within(config.connectTimeoutMs, ', 'SET SESSION max_statement_time = ${timeoutMs / 1_000}, lock_wait_timeout = ${lockWaitS}, innodb_lock_wait_timeout = ${lockWaitS}', 'SET SESSION max_execution_time = ${timeoutMs}']
          : ['connectionTimeoutMillis: config.connectTimeoutMs,', 'statement_timeout: config.statementTimeoutMs,'];
      for (const setting of settings) expect(driver).toContain(setting);
      expectE2e('a table locked 6 s, then the server frozen (SIGSTOP)');
    },
  },
  {
    says: 'When the server does not answer at all (frozen, packets dropped), the client gives up `DB_STATEMENT_TIMEOUT_MS` + 1 s after the statement was sent and discards that connection',
    file: 'src/database-config.ts, src/database-driver.ts',
    check: (s) => {
      expect(text(s, 'src/database-config.ts')).toContain('export const CLIENT_TIMEOUT_MARGIN_MS = 1_000;');
      const driver = text(s, 'src/database-driver.ts');
      if (s.given.database === 'mysql') {
        expect(driver).toContain('return await within(deadlineMs, \'client_timeout\', work, () => {\n        state.destroyed = true;\n        connection.destroy();');
      } else {
        expect(driver).toContain('query_timeout: config.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,');
        expect(driver).toContain('client.release(broken);');
      }
      expectE2e('a table locked 6 s, then the server frozen (SIGSTOP)');
    },
  },
  {
    says: 'So a request with a free connection waits at most `DB_STATEMENT_TIMEOUT_MS` + 1 s for the database, whatever the database does',
    file: 'README.md, src/database-config.ts',
    check: () => {
      // The e2e test reads the margin from the README and from the emitted code, and holds every request to it.
      expect(E2E).toContain('/`DB_STATEMENT_TIMEOUT_MS` \\+ (\\d+) s/.exec(readme)');
      expect(E2E).toContain('/CLIENT_TIMEOUT_MARGIN_MS = ([\\d_]+)/.exec(source)');
    },
  },
  {
    says: 'Measured by the end-to-end tests of create-hardened-service with `DB_STATEMENT_TIMEOUT_MS=1000` and a free connection per request',
    file: 'README.md',
    check: () => {
      expect(E2E).toContain('const timeoutMs = 1_000;');
      expect(E2E).toContain('/at most with the table locked, ([\\d.]+) s at most with the server frozen/.exec(readme)');
    },
  },
  {
    says: 'A request the database cannot answer now (unreachable, too slow, refusing connections, a lock wait that ran out) gets `503` with `Retry-After: 5`',
    file: 'src/greetings.ts, src/database.ts, src/app.ts',
    check: (s) => {
      expect(text(s, 'src/database.ts')).toContain('export const RETRY_AFTER_S = 5;');
      expect(text(s, 'src/database.ts')).toContain("this.#logger.warn({ err: { class: err.kind, code: err.code } }, 'database unavailable: answered 503');");
      expect(text(s, 'src/greetings.ts')).toContain("return { status: 503, body: errorBody(503), headers: { 'retry-after': String(RETRY_AFTER_S) } };");
      expect(text(s, 'src/app.ts')).toMatch(/\.headers\(headers\)|\.set\(headers\)/);
      expectE2e('as 503 with Retry-After and one short log line');
    },
  },
  {
    says: 'Other database errors (a bug in a statement) stay `500`',
    file: 'src/greetings.ts, src/database-driver.ts',
    check: (s) => {
      expect(text(s, 'src/greetings.ts')).toContain('if (!(err instanceof DatabaseUnavailable)) throw err;');
      expect(text(s, 'src/database-driver.ts')).toMatch(s.given.database === 'mysql' ? /return kind \? new DatabaseUnavailable\(kind, [^\n]*\) : err;/ : /return found \? new DatabaseUnavailable\(found\[1\], code, err\) : err;/);
    },
  },
  {
    says: '`/healthz` never asks the database, so during an outage Kubernetes takes the pods out of the Service without restarting them',
    file: 'chart/templates/deployment.yaml, src/app.ts',
    check: async (s) => {
      const container = pod((await s.render()).objects).containers[0];
      expect([container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path]).toEqual(['/healthz', '/readyz']);
      expect(text(s, 'test/database.integration.test.ts')).toContain('/readyz answers 200 while the database answers; /healthz never asks it');
      expectE2e('the database killed mid-load: /readyz answers 503 while /healthz keeps answering 200');
    },
  },
  {
    says: 'The service connects as `my_svc`, which may only read and insert rows (`SELECT` and `INSERT`, what the sample routes need)',
    file: 'chart/values.yaml, README.md, src/database-driver.ts',
    check: async (s) => {
      expect(envOf(pod((await s.render()).objects).containers[0]).DB_USER).toBe('my_svc');
      const grants = readmeBlock(s, '### Users and grants').split('\n').filter((l) => /TO '?my_svc'?(@|;)/.test(l));
      expect(grants.join('\n')).not.toMatch(/UPDATE|DELETE|CREATE|ALL/);
      expect([...serviceSql(s).matchAll(/sql`(\w+)/g)].map((m) => m[1]).sort()).toEqual(['INSERT', 'SELECT']);
    },
  },
  {
    says: 'The migrations Job connects as `my_svc_migrations`, which owns the tables',
    file: 'chart/templates/migrations-job.yaml, README.md',
    check: async (s) => {
      expect(envOf(job((await s.render()).objects).containers[0]).DB_MIGRATIONS_USER).toBe('my_svc_migrations');
      expect(readmeBlock(s, '### Users and grants')).toMatch(s.given.database === 'mysql' ? /GRANT CREATE, ALTER, INDEX, DROP, REFERENCES, [^\n]* TO 'my_svc_migrations'@'%';/ : /CREATE DATABASE my_svc OWNER my_svc_migrations;/);
      expectE2e("applies migrations/*.sql as the tables' owner");
    },
  },
  {
    says: 'Each has its own password: `database-password` in the service\'s Secret (`secrets.existingSecret`), and `database-migrations-password` in a Secret that only the Job mounts',
    file: 'chart/, src/database-config.ts',
    check: async (s) => {
      const objects = (await s.render({ secrets: { existingSecret: 'svc-secret' } })).objects;
      expect(pod(objects).volumes.find((v: { name: string }) => v.name === 'secrets').secret.secretName).toBe('svc-secret');
      expect(JSON.stringify(job(objects))).not.toContain('svc-secret');
      expect(JSON.stringify(pod(objects))).not.toContain(`${NAME}-database-migrations`);
      expect(text(s, 'src/database-config.ts')).toContain("export const DATABASE_PASSWORD_FILE = 'database-password';\nexport const MIGRATIONS_PASSWORD_FILE = 'database-migrations-password';");
    },
  },
  {
    says: 'As an administrator, with the two passwords in place of the placeholders:',
    file: 'README.md',
    check: (s) => {
      const grants = readmeBlock(s, '### Users and grants');
      expect(grants).toContain("'<migrations password>'");
      expect(grants).toContain("'<service password>'");
    },
  },
  {
    says: 'Grant more (`UPDATE`, `DELETE`) only when a route needs it',
    file: 'README.md',
    check: (s) => expect(readmeBlock(s, '### Users and grants').split('\n').filter((l) => /TO '?my_svc'?(@|;)/.test(l)).join('\n')).not.toMatch(/UPDATE|DELETE/),
  },
  {
    says: 'The end-to-end tests of create-hardened-service run exactly these statements against a real',
    file: 'README.md',
    check: () => {
      expect(E2E).toContain("codeBlockAfter(readme, '### Users and grants').replace('<migrations password>', passwords.migrations).replace('<service password>', passwords.service)");
      expectE2e("against the real server over verified TLS as the least-privileged user");
    },
  },
  {
    says: '`migrations/*.sql` are applied in name order, each once, by `node dist/migrate.js`: a Helm pre-install and pre-upgrade hook Job, before the new pods start',
    file: 'chart/templates/migrations-job.yaml, src/migrations.ts',
    check: async (s) => {
      const objects = (await s.render()).objects;
      expect(kind(objects, 'Job')!.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(job(objects).containers[0].args).toEqual(['dist/migrate.js']);
      expect(text(s, 'src/migrations.ts')).toContain(".filter((name) => name.endsWith('.sql'))\n    .sort()");
      expect(text(s, 'package.json')).toContain('"migrate": "node dist/migrate.js"');
      expectE2e('a second run applies nothing');
    },
  },
  {
    says: 'A failed migration fails the release',
    file: 'chart/templates/migrations-job.yaml, src/migrate.ts',
    check: async (s) => {
      expect(kind((await s.render()).objects, 'Job')!.spec.backoffLimit).toBe(0);
      expect(text(s, 'src/migrate.ts')).toContain("'migrations failed: exiting with 1');\n    return 1;");
    },
  },
  {
    says: 'The run holds a lock on the database',
    file: 'src/migrations.ts, src/database-driver.ts',
    check: (s) => {
      expect(text(s, 'src/database-driver.ts')).toMatch(s.given.database === 'mysql' ? /lock: sql`SELECT GET_LOCK\(/ : /lock: sql`SELECT pg_advisory_lock\(/);
      expect(text(s, 'src/migrations.ts')).toContain('await session.query<{ locked: unknown }>(MIGRATION_SQL.lock, MIGRATION_SQL.lockParams(timeoutMs));');
      expect(text(s, 'test/database.integration.test.ts')).toContain('a second run of the migrations Job applies nothing');
      expectE2e('two Jobs at once apply it once (the second waits for the lock)');
    },
  },
  {
    says: "The Job's statements, and its wait for the lock, are bounded by `DB_MIGRATIONS_TIMEOUT_MS`, which the chart sets to the Job's deadline",
    file: 'chart/templates/migrations-job.yaml, src/database-config.ts',
    check: async (s) => {
      const spec = job((await s.render({ database: { migrations: { activeDeadlineSeconds: 120 } } })).objects);
      expect(envOf(spec.containers[0]).DB_MIGRATIONS_TIMEOUT_MS).toBe('120000');
      expect(text(s, 'src/database-config.ts')).toContain("const statementTimeoutMs = read.integer('DB_MIGRATIONS_TIMEOUT_MS', MIGRATIONS_TIMEOUT_MS, 1_000, 86_400_000);");
      expectE2e("migrations: a slow one outlives the pods' statement timeout");
    },
  },
  {
    says: '`schema_migrations` records each file applied with its SHA-256: a file changed after it was applied stops the run',
    file: 'src/migrations.ts',
    check: (s) => {
      expect(text(s, 'src/migrations.ts')).toContain("return createHash('sha256').update(script).digest('hex');");
      expect(text(s, 'src/migrations.ts')).toContain('was changed after it was applied');
      expect(text(s, 'src/migrations.ts')).toContain('await session.query(MIGRATION_SQL.record, [version, checksum]);');
      expectE2e('an applied file edited later stops the run with one line');
    },
  },
  {
    says: 'Each file commits together with its record, or not at all',
    file: 'src/database-driver.ts (pg)',
    check: (s) => expect(text(s, 'src/database-driver.ts')).toContain('transactional: true,'),
  },
  {
    says: 'MySQL commits DDL as it runs: a migration that fails halfway is not rolled back',
    file: 'src/database-driver.ts (mysql2)',
    check: (s) => expect(text(s, 'src/database-driver.ts')).toContain('transactional: false,'),
  },
  {
    says: "The Job runs the service's image with the pod's security context and resources, and a NetworkPolicy of its own: DNS and the database's port out, nothing in",
    file: 'chart/templates/migrations-job.yaml',
    check: async (s) => {
      const objects = (await s.render({ image: { digest: DIGEST } })).objects;
      const [jobSpec, podSpec] = [job(objects), pod(objects)];
      expect(jobSpec.containers[0].image).toBe(podSpec.containers[0].image);
      expect(jobSpec.securityContext).toEqual(podSpec.securityContext);
      expect(jobSpec.containers[0].securityContext).toEqual(podSpec.containers[0].securityContext);
      expect(jobSpec.containers[0].resources).toEqual(podSpec.containers[0].resources);
      const policy = policyNamed(objects, `${NAME}-migrations`)!;
      expect(policy.ingress).toEqual([]);
      expect(egressPorts(policy)).toEqual([53, 53, backingPorts(s)[0]]);
      expect(checkPodSecurity(kind(objects, 'Job')!, 'restricted', pssVersion)).toEqual([]);
    },
  },
  {
    says: "A hook runs once per release; an init container would run the migrations in every pod at once, with the owner's password mounted in every pod",
    file: 'chart/',
    check: async (s) => expect(pod((await s.render()).objects).initContainers).toBeUndefined(),
  },
  { says: 'Locally: `npm run build && npm run migrate`', file: 'package.json', check: (s) => expect(JSON.parse(text(s, 'package.json')).scripts.migrate).toBe('node dist/migrate.js') },
  {
    says: "Connections use TLS and verify the server's certificate and host name against the CA mounted from",
    file: 'src/backing-config.ts, chart/',
    check: async (s) => {
      // A ConfigMap or a Secret.
      const which = hasDatabase(s) ? 'database' : 'redis';
      const spec = pod((await s.render({ [which]: { tls: { ca: { configMapName: '', secretName: 'ca-secret' } } } })).objects);
      expect(spec.volumes.find((v: { name: string }) => v.name === `${which}-tls`).secret).toMatchObject({ secretName: 'ca-secret' });
      const config = text(s, 'src/backing-config.ts');
      expect(config).toContain("const mode = this.get(`${prefix}_TLS`) ?? 'verify-full';");
      expect(config).toContain('if (!insecureDevMode(this.#env)) {');
      if (hasDatabase(s)) expect(text(s, 'test/database-config.test.ts')).toContain('refuses DB_TLS=off unless INSECURE_DEV_MODE=true');
      if (hasRedis(s)) expect(text(s, 'test/redis-config.test.ts')).toContain('refuses REDIS_TLS=off unless INSECURE_DEV_MODE=true');
    },
  },
  {
    says: 'The service re-reads `database-password` when the mounted file changes: new connections use the new password, queries under way finish on the old connections',
    file: 'src/database.ts',
    check: (s) => {
      expect(text(s, 'src/database.ts')).toMatch(/#rotate\(password: string\): void \{\n\s+const old = \[this\.#pool, this\.#probe\];\n\s+\[this\.#pool, this\.#probe\] = this\.#open\(password\);\n\s+const ended = Promise\.all\(old\.map\(\(pool\) => pool\.end\(\)\)\)/);
      expectE2e('a rotated password: the database user gets a new one and the mounted file changes; new connections use it without a restart');
    },
  },
  {
    says: 'Kubernetes updates a mounted Secret about a minute after the Secret changes',
    file: 'chart/, src/backing-config.ts',
    check: async (s) => {
      // Only a Secret volume mounted without subPath is updated; the kubelet swaps a symlink, which polling sees.
      const container = pod((await s.render({ secrets: { existingSecret: 's' } })).objects).containers[0];
      expect(container.volumeMounts.find((m: { name: string }) => m.name === 'secrets')).toEqual({ name: 'secrets', mountPath: '/run/secrets', readOnly: true });
      expect(text(s, 'src/backing-config.ts')).toContain('watchFile(');
      expect(E2E).toContain('async function kubeletSecret(');
    },
  },
  {
    says: 'PostgreSQL keeps one password per role: change it and the Secret together; until the new file arrives, open connections keep serving and new ones fail',
    file: 'src/database.ts',
    check: (s) => {
      // Nothing closes the pool on a failed connection: only a new password file replaces it.
      expect([...text(s, 'src/database.ts').matchAll(/openPool\(/g)]).toHaveLength(2);
      expect(E2E).toContain("`ALTER ROLE ${DB} PASSWORD '${rotated}';`");
    },
  },
  {
    says: 'For a rotation without that gap, alternate between two login roles that are members of one group role holding the grants',
    file: 'chart/values.yaml',
    check: async (s) => expect(envOf(pod((await s.render({ database: { user: 'my_svc_b' } })).objects).containers[0]).DB_USER).toBe('my_svc_b'),
  },
  {
    says: "So rotate in three steps: `ALTER USER … IDENTIFIED BY '<new>' RETAIN CURRENT PASSWORD` (MySQL 8.0.14 and later keep both)",
    file: 'src/backing-config.ts',
    check: (s) => {
      // MariaDB (the e2e server) has no dual passwords: the e2e test rotates with ALTER USER … IDENTIFIED BY.
      expect(text(s, 'src/backing-config.ts')).toContain("'secret file changed: new connections use the new value'");
      expect(E2E).toContain("`ALTER USER '${DB}'@'%' IDENTIFIED BY '${rotated}';`");
    },
  },
  {
    says: 'The migrations Job reads its password at each run',
    file: 'src/migrate.ts',
    check: (s) => expect(text(s, 'src/migrate.ts')).toContain('openPool(database, readPassword(MIGRATIONS_PASSWORD_FILE, secretsDir), logger, { migrations: true })'),
  },
  {
    says: "The chart's NetworkPolicy allows egress to the database's port only: to its pods (`database.egress` namespace and pod selectors, each naming labels) or, for a managed database, to `database.egress.cidr`",
    file: 'chart/templates/backing-networkpolicy.yaml',
    check: async (s) => {
      const port = backingPorts(s)[0];
      const inCluster = backingPolicy((await s.render()).objects)!.egress[0]!;
      expect(inCluster).toEqual({ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAME } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': s.given.database === 'mysql' ? 'mysql' : 'postgresql' } } }], ports: [{ port, protocol: 'TCP' }] });
      const managed = backingPolicy((await s.render({ database: { egress: { cidr: '10.20.0.15/32' } } })).objects)!.egress[0]!;
      expect(managed).toEqual({ to: [{ ipBlock: { cidr: '10.20.0.15/32' } }], ports: [{ port, protocol: 'TCP' }] });
    },
  },
  {
    says: 'The schema refuses an empty selector and a CIDR wider than /8 (IPv6: /16)',
    file: 'chart/values.schema.json',
    check: async (s) => {
      const egress = (e: object) => ({ database: { egress: e } });
      expect(await s.lint(egress({ podSelector: { matchLabels: null } }))).not.toBe(0);
      expect(await s.lint(egress({ namespaceSelector: null }))).not.toBe(0);
      for (const cidr of ['0.0.0.0/0', '10.0.0.0/7', '::/0', 'fd00::/15']) expect(await s.lint(egress({ cidr })), cidr).not.toBe(0);
      for (const cidr of ['10.0.0.0/8', 'fd00::/16']) expect(await s.lint(egress({ cidr })), cidr).toBe(0);
    },
  },
  {
    says: '`create-hardened-service check` fails (`CHS-NET-003`) when an egress rule allows every destination or every port',
    file: 'lib/check (the generator)',
    check: () => {
      // test/check-service.test.ts weakens generated charts each of these ways and expects CHS-NET-003.
      const weakenings = readFileSync(new URL('./check-service.test.ts', import.meta.url), 'utf8');
      for (const name of ['the database egress rule removed from the chart', 'Redis reachable on every port', 'extra egress to 0.0.0.0/0 in a values file']) expect(weakenings).toContain(`name: '${name}'`);
    },
  },
  {
    says: "The chart's NetworkPolicy allows egress to Redis's port only, to `redis.egress` (its pods, or a managed Redis's CIDR), and `create-hardened-service check` fails (`CHS-NET-003`) when no egress rule allows it",
    file: 'chart/templates/backing-networkpolicy.yaml',
    check: async (s) => {
      const rules = backingPolicy((await s.render({ redis: { egress: { cidr: '10.20.0.16/32' } } })).objects)!.egress;
      expect(rules.at(-1)).toEqual({ to: [{ ipBlock: { cidr: '10.20.0.16/32' } }], ports: [{ port: 6379, protocol: 'TCP' }] });
      expect(readFileSync(new URL('./check-service.test.ts', import.meta.url), 'utf8')).toContain("name: 'Redis reachable on every port'");
    },
  },
  {
    says: 'runs against a real database when `TEST_DB_HOST` is set, as CI does with a digest-pinned',
    file: 'test/database.integration.test.ts, CI',
    check: (s) => {
      expect(text(s, 'test/database.integration.test.ts')).toContain("'no database: set TEST_DB_HOST");
      expect(text(s, CI_FILE(s))).toContain(imageRef(versions.services[s.given.database as 'postgres' | 'mysql']));
      expect(text(s, CI_FILE(s))).toContain('TEST_DB_HOST:');
      expect(text(s, 'README.md')).toContain(`digest-pinned \`${versions.services[s.given.database as 'postgres' | 'mysql'].image}:${versions.services[s.given.database as 'postgres' | 'mysql'].tag}\``);
    },
  },
  {
    says: 'runs against a real Redis when `TEST_REDIS_HOST` is set, as CI does with a digest-pinned',
    file: 'test/rate-limit-store.integration.test.ts, CI',
    check: (s) => {
      expect(text(s, 'test/rate-limit-store.integration.test.ts')).toContain("'no Redis: set TEST_REDIS_HOST");
      expect(text(s, CI_FILE(s))).toContain(imageRef(versions.services.redis));
      expect(text(s, CI_FILE(s))).toContain('TEST_REDIS_HOST:');
    },
  },
  {
    says: "CI's throwaway server has no certificate from a CA the tests hold, so there the tests run with `INSECURE_DEV_MODE=true`",
    file: 'CI, test/database.integration.test.ts',
    check: (s) => {
      expect(text(s, CI_FILE(s))).not.toContain('TEST_DB_CA_FILE');
      expect(text(s, 'test/database.integration.test.ts')).toContain("...(given.TEST_DB_CA_FILE ? { DB_TLS_CA_FILE: given.TEST_DB_CA_FILE } : { DB_TLS: 'off', INSECURE_DEV_MODE: 'true' }),");
    },
  },
  {
    says: "The rate limiter counts in Redis (`src/shared-rate-limiter.ts`, with `ioredis`), so a client's limit holds across replicas and restarts: one key per client and window, which expires with the window",
    file: 'package.json, src/shared-rate-limiter.ts, src/server.ts',
    check: (s) => {
      expect(Object.keys(JSON.parse(text(s, 'package.json')).dependencies)).toContain('ioredis');
      expect(text(s, 'src/server.ts')).toContain('new SharedRateLimiter(config.rateLimit, redisConfig, config.secretsDir, logger)');
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain('const redisKey = `${this.#config.keyPrefix}${window.start}:${key}`;');
      expect(text(s, 'test/rate-limit-store.integration.test.ts')).toContain('a new replica (a restart) continues the count it finds in Redis');
    },
  },
  {
    says: 'Each request is counted in Redis before it is answered: `INCR` is atomic',
    file: 'src/shared-rate-limiter.ts, src/http-server.ts',
    check: (s) => {
      const limiter = text(s, 'src/shared-rate-limiter.ts');
      expect(limiter).toContain('async #share(key: string, window: ClientWindow): Promise<Window> {');
      expect(limiter).toContain('return { count: Number(count) + window.local, resetAt: window.start + this.windowMs };');
      expect(text(s, 'src/http-server.ts')).toContain('if (window instanceof Promise) return window.then((counted) => limited(res, counted, now) ?? requestRefusal(req));');
      expect(text(s, 'test/rate-limit-store.integration.test.ts')).toContain('two replicas share one count: a client gets exactly RATE_LIMIT_MAX requests, alternating or all at once');
      expectE2e("the README's shared limit, measured: a burst at once across two pods gets exactly RATE_LIMIT_MAX");
    },
  },
  {
    says: 'Measured by the end-to-end tests of create-hardened-service: 40 requests at once across 2 pods with `RATE_LIMIT_MAX=20`: 20 admitted',
    file: 'README.md',
    check: () => {
      // The e2e test reads these figures from the README and reproduces them.
      expect(E2E).toContain("/(\\d+) requests at once across (\\d+) pods with `RATE_LIMIT_MAX=(\\d+)`: (\\d+) admitted/.exec(readme)");
      expect(E2E).toContain('expect(admitted).toBe(admittedClaim);');
    },
  },
  {
    says: 'The cost is one round trip to Redis per request (well under a millisecond inside a cluster), and never more than `REDIS_COMMAND_TIMEOUT_MS`',
    file: 'src/shared-rate-limiter.ts',
    check: (s) => {
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain('commandTimeout: this.#config.commandTimeoutMs,');
      expectE2e('Redis frozen (SIGSTOP): each request waits at most REDIS_COMMAND_TIMEOUT_MS, then the pod counts alone');
    },
  },
  {
    says: 'When Redis is unreachable, slower than `REDIS_COMMAND_TIMEOUT_MS` or refuses a command, each pod counts alone, at once, as the memory store does: the service fails open to the per-pod limit, never to no limit',
    file: 'src/shared-rate-limiter.ts, src/redis-config.ts',
    check: (s) => {
      const limiter = text(s, 'src/shared-rate-limiter.ts');
      for (const setting of ['commandTimeout: this.#config.commandTimeoutMs,', 'enableOfflineQueue: false,', 'maxRetriesPerRequest: 0,']) expect(limiter).toContain(setting);
      expect(limiter).toContain('window.local += 1;');
      expect(text(s, 'test/rate-limit-store.integration.test.ts')).toContain('Redis unreachable: fails open to the per-pod limit (never to no limit), and says so once');
      expectE2e('Redis killed: each pod limits alone and says so; back: shared again');
    },
  },
  {
    says: 'It logs once when that starts and once when Redis answers again',
    file: 'src/shared-rate-limiter.ts',
    check: (s) => {
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain("'rate-limit store unavailable: counting per pod until Redis answers again'");
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain("'rate-limit store available again: counts are shared'");
      expect(E2E).toContain("await run.waitForLog('rate-limit store available again: counts are shared', 20_000);");
    },
  },
  {
    says: 'Connect as an ACL user that may run only the commands the limiter sends, on its own keys (the client runs no `INFO` ready check and no `CLIENT SETINFO`)',
    file: 'README.md, src/shared-rate-limiter.ts',
    check: (s) => {
      expect(text(s, 'src/shared-rate-limiter.ts')).toContain('enableReadyCheck: false,\n      disableClientInfo: true,');
      expect(E2E).toContain("codeBlockAfter(readme, '## Rate-limit store (Redis)')");
    },
  },
  {
    says: 'The service re-reads `redis-password` when the mounted file changes: it connects again with the new password and closes the old connection once its answers are in, without a restart',
    file: 'src/shared-rate-limiter.ts',
    check: (s) => {
      expect(text(s, 'src/shared-rate-limiter.ts')).toMatch(/#reconnect\(password: string\): void \{\n\s+const old = this\.#redis;\n\s+this\.#redis = this\.#connect\(password\);\n\s+void quit\(old\);/);
      expectE2e('a rotated Redis password: the ACL user holds both, the mounted file changes');
    },
  },
  {
    says: 'An ACL user can hold two passwords: add the new one (`>new`), update the Secret, and remove the old one (`<old`) once every pod logs `secret file changed`',
    file: 'src/backing-config.ts',
    check: (s) => {
      expect(text(s, 'src/backing-config.ts')).toContain("'secret file changed: new connections use the new value'");
      expectE2e('a rotated Redis password: the ACL user holds both, the mounted file changes');
    },
  },
  ...exposureClaims(),
];

/** The chart README's Exposure and User namespaces sections (test/chart-gateway.test.ts runs their commands and upstream fixtures in full). */
function exposureClaims(): Claim[] {
  const { dataPlanes, gateway } = gatewayDataPlanes;
  const fill = (v: string) => v.replace('{gatewayName}', gateway.name).replace('{gatewayNamespace}', gateway.namespace);
  const current = (Object.keys(dataPlanes) as Answers['dataPlane'][]).filter((k) => !dataPlanes[k].retired);
  const readme = (s: Service) => text(s, 'chart/README.md');
  return [
    {
      says: 'This service is exposed through Gateway API (`--exposure gateway`): an HTTPRoute (`gateway.networking.k8s.io/v1`',
      file: 'chart/templates/httproute.yaml, chart/values.yaml',
      check: async (s) => {
        const route = kind((await s.render()).objects, 'HTTPRoute')!;
        expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
        expect(route.spec.rules.flatMap((r: { backendRefs: { name: string }[] }) => r.backendRefs.map((b) => b.name))).toEqual([NAME]);
        expect(Object.keys(parse(text(s, 'chart/values.yaml')).httpRoute)).toEqual(gatewayDataPlanes.helmScaffold.values);
      },
    },
    {
      says: 'The platform owns the Gateway, its listeners and their TLS; the chart only references it.',
      file: 'chart/',
      check: async (s) => {
        const { objects } = await s.render();
        expect(objects.map((o) => o.kind)).not.toContain('Gateway');
        expect(kind(objects, 'HTTPRoute')!.spec.parentRefs).toEqual([{ name: gateway.name, namespace: gateway.namespace, sectionName: gateway.sectionName }]);
      },
    },
    {
      says: 'Each exposure installs with one of these',
      file: 'chart/README.md',
      check: (s) => expect(readme(s).match(/^helm install /gm)?.length).toBe(4),
    },
    {
      says: 'The NetworkPolicy admits the service port from the proxies that really send the traffic, and nothing else',
      file: 'chart/templates/networkpolicy.yaml',
      check: async (s) => {
        const policy = servicePolicy((await s.render()).objects);
        expect(policy.ingress).toHaveLength(1);
        expect(Object.keys(policy.ingress[0]!.from[0]!.podSelector.matchLabels)).not.toHaveLength(0);
      },
    },
    {
      says: '`--data-plane` | the proxies the NetworkPolicy admits',
      file: 'chart/README.md',
      check: (s) => expect(current.filter((plane) => readme(s).includes(`| \`${plane}\` |`))).toEqual(current),
    },
    ...current.map((plane): Claim => ({
      says: `\`${plane}\` | `,
      file: 'chart/values.yaml (--data-plane)',
      check: async () => {
        const tree = await renderService(await answersFor(NAME, { dataPlane: plane }));
        const values = parse(tree.get('chart/values.yaml')!.toString()).networkPolicy.dataPlane;
        const facts = dataPlanes[plane];
        if (facts.entity) expect(values).toEqual({ implementation: 'cilium' });
        else {
          expect(values.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': fill(facts.namespace!) } });
          expect(values.podSelector).toEqual({ matchLabels: Object.fromEntries(Object.entries(facts.podLabels!).map(([k, v]) => [k, fill(v)])) });
        }
      },
    })),
    {
      says: 'Client addresses: the data plane is the one hop in front of the pods, and its proxies connect from pod addresses.',
      file: 'chart/templates/networkpolicy.yaml',
      check: async (s) => expect(servicePolicy((await s.render()).objects).ingress[0]!.from.every((peer: Record<string, unknown>) => !('ipBlock' in peer) && 'podSelector' in peer)).toBe(true),
    },
    {
      says: 'Set `config.trustProxy` to the addresses those proxies connect from',
      file: 'chart/values.yaml',
      check: (s) => expect(parse(text(s, 'chart/values.yaml')).config).toHaveProperty('trustProxy'),
    },
    {
      says: '`--user-namespaces on` (or `hostUsers: false` in `chart/values.yaml`',
      file: 'chart/templates/deployment.yaml',
      check: async (s) => {
        expect(pod((await s.render()).objects).hostUsers).toBeUndefined();
        expect(pod((await s.render({ hostUsers: false })).objects).hostUsers).toBe(false);
        expect(readme(s)).toContain(`stable since Kubernetes ${userNamespaceFacts.stableIn}`);
      },
    },
    {
      says: 'Every node must run Linux ≥',
      file: 'data/kubernetes-api.json',
      check: (s) => {
        const f = userNamespaceFacts;
        expect(readme(s).replace(/\s+/g, ' ')).toContain(`Linux ≥ ${f.linux} and containerd ≥ ${f.containerd} or CRI-O ≥ ${f.crio}, with runc ≥ ${f.runc}; containerd ${f.containerdSilentlyIgnoresUpTo} and older`);
      },
    },
    {
      says: 'Pod Security (kubernetes/pod-security-admission) no longer requires runAsNonRoot or a non-zero runAsUser of a pod with `hostUsers: false`',
      file: 'chart/templates/deployment.yaml',
      check: async (s) => {
        const podSpec = pod((await s.render({ hostUsers: false })).objects);
        expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: base(s).uid });
        const rootInUserNamespace = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { ...podSpec, securityContext: { ...podSpec.securityContext, runAsNonRoot: false, runAsUser: 0 } } };
        const controls = (spec: object) => checkPodSecurity({ ...rootInUserNamespace, spec }, 'restricted', `v${userNamespaceFacts.podSecurityRelaxesFrom}`).map((f) => f.control);
        expect(controls(rootInUserNamespace.spec)).toEqual([]);
        expect(controls({ ...rootInUserNamespace.spec, hostUsers: true })).toEqual(expect.arrayContaining(['runAsNonRoot', 'runAsUser']));
      },
    },
  ];
}

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
      // A ### subsection belongs to its ## section.
      if (!line.startsWith('### ')) inSection = headings.some((h) => line.replace(/^#+ /, '').startsWith(h));
      continue;
    }
    if (!inSection) continue;
    if (!line.startsWith('|')) skipTable = false;
    if (line.startsWith('|')) {
      flush();
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      // The README's environment variable table documents configuration, not security: not a claim.
      if (cells[0] === 'variable') skipTable = true;
      if (skipTable || cells.every((c) => /^-+$/.test(c)) || ['#', 'Severity', 'Component', 'setting', 'where'].includes(cells[0]!)) continue;
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

const SECURITY_SECTIONS = ['How this service meets', 'Backing services', 'Supply chain', 'Scanning and updates', 'Patch policy', 'End of life'];
const README_SECTIONS = ['Configuration', 'Database', 'Rate-limit store', 'Build the image', 'Deploy to Kubernetes', 'What is hardened'];

async function emit(given: Partial<Record<keyof Answers, string>>): Promise<Service> {
  const files = new Map([...(await renderService(await answersFor(NAME, given)))].map(([p, b]) => [p, b.toString('utf8')]));
  const dir = await mkdtemp(join(tmpdir(), 'chs-claims-'));
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const chartDir = join(dir, 'chart');
  const cache = new Map<string, Promise<{ exitCode: number; stderr: string; objects: KubeObject[] }>>();
  return {
    ci: given.ci === 'gitlab' ? 'gitlab' : 'github',
    given,
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

const services = {} as Record<Variant, Service>;
const docStatements = {} as Record<Variant, { doc: string; statement: string }[]>;

beforeAll(async () => {
  for (const [variant, given] of Object.entries(VARIANTS) as [Variant, Partial<Record<keyof Answers, string>>][]) {
    services[variant] = await emit(given);
    docStatements[variant] = [
      ...statements(services[variant].files.get('SECURITY.md')!, SECURITY_SECTIONS).map((statement) => ({ doc: 'SECURITY.md', statement })),
      ...statements(services[variant].files.get('README.md')!, README_SECTIONS).map((statement) => ({ doc: 'README.md', statement })),
    ];
  }
});

describe.each(Object.keys(VARIANTS) as Variant[])('claims of SECURITY.md and README.md (%s)', (variant) => {
  it('every statement has a check in the claims table', () => {
    const unchecked = docStatements[variant].filter(({ statement }) => !CLAIMS.some((c) => statement.includes(c.says)));
    expect(unchecked).toEqual([]);
    expect(docStatements[variant].length).toBeGreaterThan(60);
  });

  it.each(CLAIMS.map((c) => [c.says, c] as const))('%s', async (_says, claim) => {
    const made = docStatements[variant].filter(({ statement }) => statement.includes(claim.says));
    if (made.length === 0) return; // not said in this variant
    try {
      await claim.check(services[variant]);
    } catch (err) {
      if (claim.awaits) (err as Error).message = `awaits ${claim.awaits}: ${(err as Error).message}`;
      throw err;
    }
  });
});

describe('the claims table', () => {
  it('has no entry that neither document makes', () => {
    const stale = CLAIMS.filter((c) => !(Object.keys(VARIANTS) as Variant[]).some((variant) => docStatements[variant].some(({ statement }) => statement.includes(c.says))));
    expect(stale.map((c) => c.says)).toEqual([]);
  });

  it('the statement reader splits sentences, table rows and list items', () => {
    const doc = '## Patch policy\n\n| Severity | a |\n|---|---|\n| HIGH | 30 days |\n\nOne. Two, e.g. three.\n\n1. Step one. Step two.\n- Item\n\n```sh\nnot a claim\n```\n## Other\nNot read.';
    expect(statements(doc, ['Patch policy'])).toEqual(['HIGH | 30 days', 'One.', 'Two, e.g. three.', 'Step one.', 'Step two.', 'Item']);
  });
});
