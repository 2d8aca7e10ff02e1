import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubernetesTarget, serviceNamespace } from '../generators/features/kubernetes.js';
import { versions } from '../core/versions.js';
import { answersFor } from './support/answers.js';
import { helmTemplate, parseManifests, validateKubernetesObject, writeService } from './support/kubernetes.js';

// deploy/namespace.yaml and the generation-time values of the chart (Chart.yaml, values.yaml).
const { minor, pssVersion, helmKubeVersion } = kubernetesTarget();

describe('deploy/namespace.yaml', () => {
  it('holds a restricted Namespace, a ResourceQuota, a LimitRange and a default-deny NetworkPolicy, all valid', async () => {
    const { dir } = await writeService();
    const text = await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8');
    const objects = parseManifests(text);
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy']);
    expect((await Promise.all(objects.map(validateKubernetesObject))).flat()).toEqual([]);
    await expect(text).toMatchFileSnapshot('__snapshots__/namespace.yaml');

    const [ns, quota, limits, policy] = objects;
    expect(ns!.metadata.name).toBe('my-svc');
    for (const o of objects.slice(1)) expect(o.metadata.namespace).toBe('my-svc');
    expect(ns!.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': pssVersion,
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': pssVersion,
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': pssVersion,
    });
    expect(pssVersion).toBe(`v${versions.kubernetes.minor}`);
    expect(quota!.spec.hard).toMatchObject({ 'services.loadbalancers': '0', 'services.nodeports': '0' });
    for (const key of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']) expect(quota!.spec.hard[key]).toBeDefined();
    expect(limits!.spec.limits[0]).toMatchObject({ type: 'Container' });
    expect(Object.keys(limits!.spec.limits[0].default).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    expect(policy!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('is never the default namespace nor one of the cluster’s own', async () => {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'kube-thing']) {
      const namespace = serviceNamespace(name);
      expect(namespace).not.toBe(name);
      expect(namespace.startsWith('kube-')).toBe(false);
      expect(namespace).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    }
    const { dir } = await writeService(await answersFor('default'));
    const [ns] = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
    expect(ns!.metadata.name).toBe('default-svc');
    // The chart itself refuses `default` too (chart-helm.test.ts); the README installs into the right one.
    expect(await readFile(join(dir, 'chart/README.md'), 'utf8')).toContain('--namespace default-svc');
  });

  it('the chart’s resources fit the namespace quota at the autoscaling maximum plus a rollout surge', async () => {
    const { dir } = await writeService();
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    const [, quota] = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
    const pods = values.autoscaling.maxReplicas + 2;
    const bytes = (q: string) => {
      const [, n, unit] = /^(\d+)(Mi|Gi)$/.exec(q)!;
      return Number(n) * (unit === 'Gi' ? 1024 ** 3 : 1024 ** 2);
    };
    for (const kind of ['limits', 'requests'] as const) {
      expect(pods * bytes(values.resources[kind].memory)).toBeLessThanOrEqual(bytes(quota!.spec.hard[`${kind}.memory`]));
      expect(pods * bytes(values.resources[kind]['ephemeral-storage'])).toBeLessThanOrEqual(bytes(quota!.spec.hard[`${kind}.ephemeral-storage`]));
    }
    expect(pods * Number(values.resources.limits.cpu)).toBeLessThanOrEqual(Number(quota!.spec.hard['limits.cpu']));
    expect(pods).toBeLessThanOrEqual(Number(quota!.spec.hard.pods));
  });
});

describe('Chart.yaml kubeVersion', () => {
  it('starts at the oldest Kubernetes minor upstream still supports on the day the data was checked', () => {
    const { minors, checked, source } = versions.kubernetes;
    expect(source).toMatch(/kubernetes\.io\/releases/);
    for (const m of minors) expect(m.source).toBe(`kubernetes.io/releases/${m.minor}`);
    const supported = minors.filter((m) => m.released <= checked && m.endOfLife > checked).map((m) => m.minor);
    // 2026-11-27: 1.34 reached its end of life on 2026-10-27; 1.35, 1.36 and 1.37 are supported.
    expect(supported).toEqual(['1.35', '1.36', '1.37']);
    expect(kubernetesTarget().versionRange).toBe('>=1.35.0-0');
    expect(supported).toContain(versions.kubernetes.minor);
  });
});

describe('generation-time values', () => {
  it('Chart.yaml and values.yaml carry the answers, escaped, and the pinned Kubernetes range', async () => {
    const description = 'R&D "core" {{ .Values.x }} ${{ github.sha }} \'quoted\' # not a comment: yes';
    const answers = await answersFor('orders-api', { description, port: '9090', image: 'registry.example.com:5000/acme/orders-api' });
    const { dir } = await writeService(answers);
    const chartYaml = parse(await readFile(join(dir, 'chart/Chart.yaml'), 'utf8'));
    expect(chartYaml).toMatchObject({ apiVersion: 'v2', name: 'orders-api', description, kubeVersion: kubernetesTarget().versionRange });
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    expect(values.image.repository).toBe('registry.example.com:5000/acme/orders-api');
    expect(values.containerPort).toBe(9090);

    const result = await helmTemplate(join(dir, 'chart'), {}, { release: 'orders-api', namespace: 'orders-api', kubeVersion: helmKubeVersion });
    expect(result.exitCode, result.stderr).toBe(0);
    const objects = parseManifests(result.stdout);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(deployment.spec.template.spec.containers[0].ports[0].containerPort).toBe(9090);
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example.com:5000/acme/orders-api:0.1.0');
    expect(objects.find((o) => o.kind === 'NetworkPolicy')!.spec.ingress[0].ports).toEqual([{ port: 9090, protocol: 'TCP' }]);
  });

  it('the chart README names the namespace, the pinned minor and every security setting', async () => {
    const { dir } = await writeService();
    const readme = await readFile(join(dir, 'chart/README.md'), 'utf8');
    expect(readme).toContain('helm install my-svc ./chart --namespace my-svc');
    expect(readme).toContain(`Kubernetes ${minor}`);
    for (const setting of ['runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'capabilities.drop', 'seccompProfile', 'automountServiceAccountToken', 'enableServiceLinks', 'image.digest', 'NetworkPolicy', 'securityException'])
      expect(readme).toContain(setting);
  });
});
