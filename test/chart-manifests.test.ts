import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { kubesecMaxScore, kubesecScore } from '../lib/policy/kubesec-score.js';
import { checkPodSecurity, extractPodSpecs } from '../lib/policy/pod-security.js';
import { DIGEST, valuesMatrix } from './support/chart-values.js';
import { assumedImage } from '../core/image.js';
import { helmTemplate, type KubeObject, parseManifests, validateKubernetesObject, writeService } from './support/kubernetes.js';
import { apiServerProblems, namespaceAdmissionProblems } from './support/namespace-admission.js';

// What the chart renders, for every values combination: valid Kubernetes objects whose pods pass the
// Pod Security Standards "restricted" profile for the pinned minor and score the kubesec maximum.
const { helmKubeVersion, pssVersion } = kubernetesTarget();
const rendered: Record<string, { text: string; objects: KubeObject[] }> = {};
let image: string;
let namespaceObjects: KubeObject[];

beforeAll(async () => {
  const { dir, answers } = await writeService();
  // No image named: the chart's repository is the one the deploy sets (test/support/kubernetes.ts).
  image = assumedImage(answers);
  namespaceObjects = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
  await Promise.all(
    Object.entries(valuesMatrix).map(async ([combo, values]) => {
      const result = await helmTemplate(join(dir, 'chart'), values, { kubeVersion: helmKubeVersion });
      if (result.exitCode !== 0) throw new Error(`${combo}: helm template failed: ${result.stderr}`);
      rendered[combo] = { text: result.stdout, objects: parseManifests(result.stdout) };
    }),
  );
});

const combos = Object.keys(valuesMatrix);
const find = (combo: string, kind: string) => rendered[combo]!.objects.find((o) => o.kind === kind);
const deployment = (combo: string) => find(combo, 'Deployment')!;
const podSpec = (combo: string) => deployment(combo).spec.template.spec;
const container = (combo: string) => podSpec(combo).containers[0];

describe.each(combos)('values %s', (combo) => {
  it('every rendered object validates against the Kubernetes schema, with no unknown field', async () => {
    const objects = rendered[combo]!.objects;
    const problems = (await Promise.all(objects.map(validateKubernetesObject))).flat();
    expect(problems).toEqual([]);
  });

  it('the API server and the namespace (PSA, LimitRange, ResourceQuota) admit every object', () => {
    const objects = rendered[combo]!.objects;
    expect([...apiServerProblems(objects), ...namespaceAdmissionProblems(objects, namespaceObjects)]).toEqual([]);
  });

  it(`every pod passes Pod Security Standards restricted (${pssVersion} and latest)`, () => {
    const pods = extractPodSpecs(rendered[combo]!.text);
    expect(pods.map((p) => p.kind)).toEqual(['Deployment']);
    for (const pod of pods) {
      expect(checkPodSecurity(pod.object, 'restricted', pssVersion)).toEqual([]);
      expect(checkPodSecurity(pod.object, 'restricted', 'latest')).toEqual([]);
    }
  });

  it(`the Deployment reaches the kubesec-style maximum (${kubesecMaxScore})`, () => {
    const score = kubesecScore(deployment(combo))!;
    expect(score.advise).toEqual([]);
    expect(score.critical).toEqual([]);
    expect(score.score).toBe(kubesecMaxScore);
  });

  it('every object is namespaced to the release and carries the standard labels', () => {
    for (const o of rendered[combo]!.objects) {
      expect(o.metadata.namespace, `${o.kind}`).toBe('my-svc');
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'my-svc',
        'app.kubernetes.io/instance': 'my-svc',
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  });

  it('the pod is locked down whatever the options', () => {
    const spec = podSpec(combo);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
    expect(container(combo).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 65532,
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const kind of ['requests', 'limits'])
      expect(Object.keys(container(combo).resources[kind]).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    const env = Object.fromEntries(container(combo).env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const drainMs = Number(env.SHUTDOWN_DELAY_MS) + Number(env.SHUTDOWN_TIMEOUT_MS);
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs);
    // The probes ask their own port, off the public port's caps (src/probe-server.ts); the Service never exposes it.
    expect(container(combo).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(container(combo).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(container(combo).startupProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(env.PROBE_PORT).toBe('9465');
    expect(find(combo, 'Service')!.spec.ports.map((p: { port: number }) => p.port)).not.toContain(9465);
    expect(spec.volumes.find((v: { name: string }) => v.name === 'tmp').emptyDir.sizeLimit).toBe('64Mi');
    // Never a Secret as an environment variable: secrets are files.
    expect(JSON.stringify(container(combo).env)).not.toContain('secretKeyRef');
  });
});

describe('default values', () => {
  it('render exactly the always-on objects', () => {
    expect(rendered.default!.objects.map((o) => o.kind).sort()).toEqual(
      ['Deployment', 'HTTPRoute', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount'].sort(),
    );
  });

  it('match the snapshot', async () => {
    await expect(rendered.default!.text).toMatchFileSnapshot('__snapshots__/chart-default.yaml');
  });

  it('reference the image by the chart appVersion tag, with env the app reads', () => {
    expect(container('default').image).toBe(`${image}:0.1.0`);
    const env = Object.fromEntries(container('default').env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toEqual({
      PORT: '8080',
      PROBE_PORT: '9465',
      LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      SECRETS_DIR: '/run/secrets',
    });
    expect(container('default').ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'probes', containerPort: 9465, protocol: 'TCP' },
    ]);
  });

  it("NetworkPolicy: ingress only from the Gateway's proxies (explicit placeholder labels) on the app port (none to the probe port: the kubelet is never blocked), egress only to cluster DNS", () => {
    const policy = find('default', 'NetworkPolicy')!.spec;
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' } },
            podSelector: { matchLabels: { 'gateway.example.com/data-plane': 'public' } },
          },
        ],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
    expect(policy.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('a single replica has no spread constraints; the PDB never blocks drains', () => {
    expect(podSpec('default').topologySpreadConstraints).toBeUndefined();
    expect(find('default', 'PodDisruptionBudget')!.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });
});

describe('each optional feature', () => {
  it('replicas>1 spreads pods over nodes and zones', () => {
    expect(deployment('replicas>1').spec.replicas).toBe(3);
    const keys = podSpec('replicas>1').topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey);
    expect(keys).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });

  it('hpa: an autoscaling/v2 HPA owns the replica count', () => {
    const hpa = find('hpa', 'HorizontalPodAutoscaler')!;
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6, scaleTargetRef: { kind: 'Deployment', name: 'my-svc' } });
    expect(hpa.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name)).toEqual(['cpu', 'memory']);
    expect(deployment('hpa').spec.replicas).toBeUndefined();
    expect(podSpec('hpa').topologySpreadConstraints).toHaveLength(2);
  });

  it('ingress: TLS on every host, routed to the http port', () => {
    const ingress = find('ingress+tls', 'Ingress')!;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'api-example-com-tls', hosts: ['api.example.com'] }]);
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'my-svc', port: { name: 'http' } } });
  });

  it('metrics: METRICS_PORT env, container and service port, monitoring-only NetworkPolicy rule, ServiceMonitor', () => {
    const c = container('metrics+serviceMonitor');
    expect(c.env).toContainEqual({ name: 'METRICS_PORT', value: '9464' });
    expect(c.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
    expect(find('metrics+serviceMonitor', 'Service')!.spec.ports).toContainEqual({ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' });
    expect(find('metrics+serviceMonitor', 'NetworkPolicy')!.spec.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} }],
      ports: [{ port: 9464, protocol: 'TCP' }],
    });
    const monitor = find('metrics+serviceMonitor', 'ServiceMonitor')!;
    expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    // Off by default: no metrics port anywhere.
    expect(JSON.stringify(rendered.default!.objects)).not.toContain('9464');
  });

  it('extra egress and ingress rules are appended, DNS stays', () => {
    const policy = find('extra-egress', 'NetworkPolicy')!.spec;
    expect(policy.egress).toHaveLength(2);
    expect(policy.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    expect(policy.ingress).toHaveLength(2);
  });

  it('secrets: the existing Secret is mounted read-only at SECRETS_DIR, readable by the pod group only', () => {
    const spec = podSpec('secrets');
    expect(spec.volumes).toContainEqual({ name: 'secrets', secret: { secretName: 'my-svc-secrets', defaultMode: 0o440 } });
    expect(container('secrets').volumeMounts).toContainEqual({ name: 'secrets', mountPath: '/run/secrets', readOnly: true });
    expect(container('secrets').env).toContainEqual({ name: 'SECRETS_DIR', value: '/run/secrets' });
    expect(podSpec('default').volumes.map((v: { name: string }) => v.name)).toEqual(['tmp']);
  });

  it('rbac: a namespaced Role with exactly the given rules, bound to the service account, and a projected token', () => {
    const role = find('rbac', 'Role')!;
    expect(role.rules).toEqual((valuesMatrix.rbac as { rbac: { rules: unknown } }).rbac.rules);
    const binding = find('rbac', 'RoleBinding')!;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'my-svc' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'my-svc', namespace: 'my-svc' }]);
    expect(rendered.default!.objects.some((o) => o.kind === 'Role' || o.kind === 'ClusterRole')).toBe(false);
    const token = podSpec('rbac').volumes.find((v: { name: string }) => v.name === 'kube-api-access');
    expect(token.projected.sources[0].serviceAccountToken.expirationSeconds).toBe(3600);
    expect(container('rbac').volumeMounts).toContainEqual({
      name: 'kube-api-access',
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
      readOnly: true,
    });
    expect(podSpec('rbac').automountServiceAccountToken).toBe(false);
  });

  it('digest: the image is referenced as repository@digest', () => {
    expect(container('digest').image).toBe(`${image}@${DIGEST}`);
    expect(container('everything').image).toBe(`${image}@${DIGEST}`);
  });
});

describe('the validators are not vacuous', () => {
  it('catch wrong types, bad enums and misspelled fields', async () => {
    const broken: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        replicas: 'three',
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'i', securityContex: { privileged: true }, resources: { limits: { cpu: 'lots' } } }] },
        },
      },
    };
    const problems = await validateKubernetesObject(broken);
    expect(problems.join('\n')).toContain('spec/replicas must be integer');
    expect(problems.join('\n')).toContain('limits/cpu must match format "quantity"');
    expect(problems.join('\n')).toContain('spec.template.spec.containers[0].securityContex: unknown field in V1Container');
    const policy: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p' },
      spec: { podSelector: {}, policyTypes: ['Inbound'] },
    };
    expect((await validateKubernetesObject(policy)).join('\n')).toContain('policyTypes/0 must be equal to one of the allowed values');
  });
});
