import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { admit, expressions, selects } from './support/admission-policy.js';
import { answersFor } from './support/answers.js';
import { DIGEST, valuesMatrix } from './support/chart-values.js';
import { assumedImage } from '../core/image.js';
import { helmTemplate, type KubeObject, parseManifests, validateKubernetesObject, writeService } from './support/kubernetes.js';

/**
 * deploy/image-policy.yaml: the namespace admits only images pinned by digest from the service's repository.
 * Its CEL runs here for real (@bufbuild/cel) against every workload the chart renders, for every service
 * variant and values combination (all must pass once deployed by digest), and against pods that must fail.
 */
const { helmKubeVersion, oldestSupported } = kubernetesTarget();
const facts = JSON.parse(await readFile(new URL('../data/admission-facts.json', import.meta.url), 'utf8')) as {
  cel: { functions: Record<string, string> };
};

const variants: Record<string, Record<string, string>> = {
  'fastify, no database': {},
  express: { framework: 'express' },
  'postgres + redis': { database: 'postgres', rateLimitStore: 'redis' },
  'mysql (migrations Job)': { database: 'mysql' },
  gitlab: { ci: 'gitlab' },
};
const WORKLOADS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

interface Rendered {
  image: string;
  namespace: string;
  policyObjects: KubeObject[];
  /** Per values combination: the workloads the chart renders when deployed by digest, and by tag (the default). */
  byDigest: Record<string, KubeObject[]>;
  byTag: KubeObject[];
}
const rendered: Record<string, Rendered> = {};

async function workloads(chartDir: string, values: Record<string, unknown>): Promise<KubeObject[]> {
  const result = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  return parseManifests(result.stdout).filter((o) => WORKLOADS.has(o.kind));
}

/** The pod a controller makes from a workload's template: what the API server admits last. */
function podOf(workload: KubeObject): KubeObject {
  const template = workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec.template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${workload.metadata.name}-x`, namespace: workload.metadata.namespace, labels: template.metadata?.labels }, spec: template.spec };
}

beforeAll(async () => {
  await Promise.all(
    Object.entries(variants).map(async ([variant, given]) => {
      const { dir, answers } = await writeService(await answersFor('my-svc', given));
      const chartDir = join(dir, 'chart');
      const byDigest: Record<string, KubeObject[]> = {};
      for (const [combo, values] of Object.entries(valuesMatrix)) {
        const image = { ...((values.image as object | undefined) ?? {}), digest: DIGEST };
        byDigest[combo] = await workloads(chartDir, { ...values, image });
      }
      rendered[variant] = {
        // No image named: CI names it at run time; the policy and the deploy use the assumed repository.
        image: assumedImage(answers),
        namespace: 'my-svc',
        policyObjects: parseManifests(await readFile(join(dir, 'deploy/image-policy.yaml'), 'utf8')),
        byDigest,
        byTag: await workloads(chartDir, {}),
      };
    }),
  );
}, 240_000);

const policy = (variant: string) => rendered[variant]!.policyObjects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
const binding = (variant: string) => rendered[variant]!.policyObjects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;

describe.each(Object.keys(variants))('deploy/image-policy.yaml, %s', (variant) => {
  it('is a ValidatingAdmissionPolicy and its binding that validate against the Kubernetes schema, with no unknown field', async () => {
    const objects = rendered[variant]!.policyObjects;
    expect(objects.map((o) => o.kind)).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    expect((await Promise.all(objects.map(validateKubernetesObject))).flat()).toEqual([]);
  });

  it('the binding denies (not warns or audits) in the service namespace only, and names the policy', () => {
    expect(binding(variant).spec).toEqual({
      policyName: policy(variant).metadata.name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': rendered[variant]!.namespace } } },
    });
    expect(policy(variant).spec.failurePolicy).toBe('Fail');
  });

  it('admits every workload the chart renders, and the pods made from them, in every values combination, when deployed by digest', () => {
    for (const [combo, objects] of Object.entries(rendered[variant]!.byDigest)) {
      expect(objects.length, combo).toBeGreaterThan(0);
      for (const object of [...objects, ...objects.map(podOf)]) {
        expect(selects(policy(variant), object), `${combo}: ${object.kind} is not matched`).toBe(true);
        expect(admit(policy(variant), object), `${combo}: ${object.kind} ${object.metadata.name}`).toEqual({ admitted: true });
      }
    }
  });

  it('refuses the chart deployed by tag (no image.digest), naming the image', () => {
    const { byTag, image } = rendered[variant]!;
    for (const object of byTag) {
      const verdict = admit(policy(variant), object);
      expect(verdict).toEqual({ admitted: false, message: expect.stringMatching(new RegExp(`^image "${image}:\\S+" is not pinned by digest`)) });
    }
  });
});

describe('pods that must be refused, with the image and the reason', () => {
  const variant = 'fastify, no database';
  const image = () => rendered[variant]!.image;
  const pinned = () => `${image()}@${DIGEST}`;
  const deployment = () => rendered[variant]!.byDigest['default']!.find((o) => o.kind === 'Deployment')!;
  const pod = (change: (spec: any) => void): KubeObject => {
    const p = structuredClone(podOf(deployment()));
    change(p.spec);
    return p;
  };
  const withImage = (ref: string) => pod((s) => (s.containers[0].image = ref));
  const unpinned = (ref: string) => `image "${ref}" is not pinned by digest`;
  const foreign = (ref: string) => `image "${ref}" is not from an allowed repository (`;

  const cases: [string, () => KubeObject, () => string][] = [
    ['tag only', () => withImage(`${image()}:1.2.3`), () => unpinned(`${image()}:1.2.3`)],
    ['no tag, no digest', () => withImage(image()), () => unpinned(image())],
    ['a short digest', () => withImage(`${image()}@sha256:abc123`), () => unpinned(`${image()}@sha256:abc123`)],
    ['an upper-case digest', () => withImage(`${image()}@sha256:${'AB'.repeat(32)}`), () => unpinned(`${image()}@sha256:${'AB'.repeat(32)}`)],
    ['a digest with something after it', () => withImage(`${pinned()}x`), () => unpinned(`${pinned()}x`)],
    ['a digest of another algorithm', () => withImage(`${image()}@sha512:${'ab'.repeat(64)}`), () => unpinned(`${image()}@sha512:${'ab'.repeat(64)}`)],
    ['a foreign registry, pinned', () => withImage(`docker.io/library/busybox@${DIGEST}`), () => foreign(`docker.io/library/busybox@${DIGEST}`)],
    ['the registry prefix trick ghcr.io.evil.com/…', () => withImage(`${image().replace('ghcr.io', 'ghcr.io.evil.com')}@${DIGEST}`), () => foreign(`${image().replace('ghcr.io', 'ghcr.io.evil.com')}@${DIGEST}`)],
    ["a sibling repository that starts with the service's name", () => withImage(`${image()}-evil@${DIGEST}`), () => foreign(`${image()}-evil@${DIGEST}`)],
    ['a repository below the service image', () => withImage(`${image()}/debug@${DIGEST}`), () => foreign(`${image()}/debug@${DIGEST}`)],
    ['the owner without the image (ghcr.io/acme@sha256:… with a short digest)', () => withImage(`${image().split('/').slice(0, 2).join('/')}@sha256:abc`), () => unpinned(`${image().split('/').slice(0, 2).join('/')}@sha256:abc`)],
    ['a tag before the digest (ghcr.io/…:x@sha256:…): compared as written', () => withImage(`${image()}:1.2.3@${DIGEST}`), () => foreign(`${image()}:1.2.3@${DIGEST}`)],
    ['an init container by tag', () => pod((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36' }])), () => unpinned('busybox:1.36')],
    ['an init container from a foreign registry', () => pod((s) => (s.initContainers = [{ name: 'init', image: `quay.io/x/y@${DIGEST}` }])), () => foreign(`quay.io/x/y@${DIGEST}`)],
    ['an ephemeral container (kubectl debug) by tag', () => pod((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox' }])), () => unpinned('busybox')],
    ['an ephemeral container from a foreign registry', () => pod((s) => (s.ephemeralContainers = [{ name: 'debug', image: `docker.io/nicolaka/netshoot@${DIGEST}` }])), () => foreign(`docker.io/nicolaka/netshoot@${DIGEST}`)],
    ['a second container by tag', () => pod((s) => s.containers.push({ name: 'sidecar', image: `${image()}:latest` })), () => unpinned(`${image()}:latest`)],
    ['a container without an image', () => pod((s) => delete s.containers[0].image), () => unpinned('')],
  ];

  it.each(cases)('%s', (_name, object, message) => {
    const verdict = admit(policy(variant), object());
    expect(verdict.admitted).toBe(false);
    expect((verdict as { message: string }).message).toContain(message());
  });

  it('the same refusals hold in the pod template of every workload kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob)', () => {
    const bad = `${image()}:1.2.3`;
    const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: bad }] } };
    const meta = { name: 'x', namespace: 'my-svc' };
    const objects: KubeObject[] = [
      ...['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].map((kind) => ({ apiVersion: 'apps/v1', kind, metadata: meta, spec: { template } })),
      { apiVersion: 'batch/v1', kind: 'Job', metadata: meta, spec: { template } },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta, spec: { schedule: '@daily', jobTemplate: { spec: { template } } } },
    ];
    for (const object of objects) {
      expect(selects(policy(variant), object), object.kind).toBe(true);
      expect(admit(policy(variant), object), object.kind).toEqual({ admitted: false, message: expect.stringContaining(unpinned(bad)) });
      const good = structuredClone(object);
      (good.kind === 'CronJob' ? good.spec.jobTemplate.spec.template : good.spec.template).spec.containers[0].image = pinned();
      expect(admit(policy(variant), good), object.kind).toEqual({ admitted: true });
    }
  });

  it('adding an ephemeral container (the pods/ephemeralcontainers subresource) is matched', () => {
    expect(selects(policy(variant), podOf(deployment()), 'ephemeralcontainers')).toBe(true);
  });
});

describe('the CEL is what the oldest supported Kubernetes runs', () => {
  it(`calls only functions Kubernetes ${oldestSupported} has (data/admission-facts.json, read upstream)`, () => {
    const called = new Set(expressions(policy('fastify, no database')).flatMap((e) => [...e.replace(/'[^']*'/g, "''").matchAll(/([A-Za-z_]\w*)\(/g)].map((m) => m[1]!)));
    const minor = (v: string) => Number(v.split('.')[1]);
    for (const name of called) {
      expect(facts.cel.functions[name], `${name} is not recorded`).toBeDefined();
      expect(minor(facts.cel.functions[name]!), name).toBeLessThanOrEqual(minor(oldestSupported));
    }
    expect([...called].sort()).toEqual(['endsWith', 'exists', 'filter', 'has', 'join', 'map', 'matches', 'size', 'split', 'startsWith']);
  });
});
