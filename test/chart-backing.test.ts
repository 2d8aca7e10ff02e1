import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { checkPodSecurity } from '../lib/policy/pod-security.js';
import { answersFor } from './support/answers.js';
import { helmLint, helmTemplate, type KubeObject, parseManifests, validateKubernetesObject, writeService } from './support/kubernetes.js';

/**
 * The chart of a service with a database and Redis: what its pods and its migrations Job may reach (exactly DNS,
 * the database's port and Redis's port, to named peers), the Job as restricted as the pods, and the values the
 * schema refuses.
 */
const { helmKubeVersion, pssVersion } = kubernetesTarget();
let chartDir: string;
let plainChartDir: string;

beforeAll(async () => {
  chartDir = join((await writeService(await answersFor('my-svc', { database: 'postgres', rateLimitStore: 'redis' }))).dir, 'chart');
  plainChartDir = join((await writeService(await answersFor('my-svc', { database: 'mysql' }))).dir, 'chart');
});

async function render(values: Record<string, unknown> = {}, dir = chartDir): Promise<KubeObject[]> {
  const result = await helmTemplate(dir, values, { kubeVersion: helmKubeVersion });
  expect(result.exitCode, result.stderr).toBe(0);
  return parseManifests(result.stdout);
}

const matches = (selector: { matchLabels?: Record<string, string> }, labels: Record<string, string>) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** Every egress rule of every NetworkPolicy selecting pods with these labels: NetworkPolicies add up. */
function egressOf(objects: KubeObject[], labels: Record<string, string>) {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy' && o.spec.policyTypes.includes('Egress') && matches(o.spec.podSelector, labels))
    .flatMap((o) => o.spec.egress as { to: unknown[]; ports: { port: number; protocol: string }[] }[]);
}

const podLabels = (objects: KubeObject[], kind: string) => objects.find((o) => o.kind === kind)!.spec.template.metadata.labels as Record<string, string>;
const dns = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ],
};
const inCluster = (name: string, port: number) => ({
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'my-svc' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': name } } }],
  ports: [{ port, protocol: 'TCP' }],
});

describe('chart with a database and Redis', () => {
  it('lints with --strict, and every object validates against the Kubernetes schema', async () => {
    const lint = await helmLint(chartDir, {});
    expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    for (const object of await render()) expect(await validateKubernetesObject(object)).toEqual([]);
  });

  it("the service's pods may reach exactly DNS, the database's port and Redis's port, each to its own pods", async () => {
    const objects = await render();
    const egress = egressOf(objects, podLabels(objects, 'Deployment'));
    expect(egress).toHaveLength(3);
    expect(egress).toEqual(expect.arrayContaining([dns, inCluster('postgresql', 5432), inCluster('redis', 6379)]));
  });

  it("the migrations Job: a pre-install and pre-upgrade hook, its pods not the Service's, reaching exactly DNS and the database's port, nothing in", async () => {
    const objects = await render();
    const job = objects.find((o) => o.kind === 'Job')!;
    expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0' });
    const labels = podLabels(objects, 'Job');
    for (const kind of ['Service', 'PodDisruptionBudget']) {
      const selector = objects.find((o) => o.kind === kind)!.spec.selector;
      expect(matches(kind === 'Service' ? { matchLabels: selector } : selector, labels), kind).toBe(false);
    }
    expect(egressOf(objects, labels)).toEqual([dns, inCluster('postgresql', 5432)]);
    const own = objects.filter((o) => o.kind === 'NetworkPolicy' && matches(o.spec.podSelector, labels));
    expect(own.map((o) => [o.spec.policyTypes, o.spec.ingress])).toEqual([[['Ingress', 'Egress'], []]]);
    // Its ServiceAccount and NetworkPolicy exist before it does, on the first install too.
    for (const kind of ['ServiceAccount', 'NetworkPolicy']) {
      const hook = objects.find((o) => o.kind === kind && o.metadata.name === job.metadata.name)!;
      expect(hook.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' });
    }
    expect(job.spec.template.spec.serviceAccountName).toBe(job.metadata.name);
  });

  it("the Job runs as restricted as the pods: the same security contexts and resources, only the migrations password mounted", async () => {
    const objects = await render();
    const pod = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec;
    const job = objects.find((o) => o.kind === 'Job')!.spec.template.spec;
    expect(checkPodSecurity(objects.find((o) => o.kind === 'Job')!, 'restricted', pssVersion)).toEqual([]);
    expect(job.securityContext).toEqual(pod.securityContext);
    expect(job.containers[0].securityContext).toEqual(pod.containers[0].securityContext);
    expect(job.containers[0].resources).toEqual(pod.containers[0].resources);
    expect(job.containers[0].args).toEqual(['dist/migrate.js']);
    expect(job.automountServiceAccountToken).toBe(false);
    const secret = job.volumes.find((v: { secret?: unknown }) => v.secret).secret;
    expect(secret).toMatchObject({ secretName: 'my-svc-database-migrations', items: [{ key: 'database-migrations-password', path: 'database-migrations-password' }] });
    // The service's pods never mount the owner's password.
    expect(JSON.stringify(pod.volumes)).not.toContain('database-migrations');
  });

  it('a managed database and Redis: egress to their address blocks, their ports only', async () => {
    const objects = await render({ database: { egress: { cidr: '10.20.0.15/32' } }, redis: { egress: { cidr: '2001:db8::7/128' } } });
    const egress = egressOf(objects, podLabels(objects, 'Deployment'));
    expect(egress).toHaveLength(3);
    expect(egress).toEqual(
      expect.arrayContaining([
        dns,
        { to: [{ ipBlock: { cidr: '10.20.0.15/32' } }], ports: [{ port: 5432, protocol: 'TCP' }] },
        { to: [{ ipBlock: { cidr: '2001:db8::7/128' } }], ports: [{ port: 6379, protocol: 'TCP' }] },
      ]),
    );
  });

  it("the pods' environment and mounts: the connection from values, the CA from a ConfigMap or a Secret, read-only", async () => {
    const objects = await render({ database: { tls: { ca: { configMapName: '', secretName: 'db-ca' } } } });
    const container = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ DB_HOST: 'my-svc-postgresql', DB_PORT: '5432', DB_NAME: 'my_svc', DB_USER: 'my_svc', DB_TLS_CA_FILE: '/run/database-tls/ca.crt', REDIS_HOST: 'my-svc-redis', REDIS_USER: 'my-svc' });
    expect(Object.keys(env).some((name) => /PASSWORD|INSECURE|_TLS$/.test(name))).toBe(false);
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: 'database-tls', mountPath: '/run/database-tls', readOnly: true }, { name: 'redis-tls', mountPath: '/run/redis-tls', readOnly: true }]));
    const volumes = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.volumes;
    expect(volumes.find((v: { name: string }) => v.name === 'database-tls').secret).toMatchObject({ secretName: 'db-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(volumes.find((v: { name: string }) => v.name === 'redis-tls').configMap).toMatchObject({ name: 'my-svc-redis-ca' });
  });

  it('migrations.enabled false: no hook Job, ServiceAccount or NetworkPolicy', async () => {
    const objects = await render({ database: { migrations: { enabled: false } } });
    expect(objects.filter((o) => o.metadata.name === 'my-svc-migrations')).toEqual([]);
  });

  it.each([
    ['an egress to every address', { database: { egress: { cidr: '0.0.0.0/0' } } }],
    ['an address block wider than /8', { redis: { egress: { cidr: '10.0.0.0/4' } } }],
    // helm merges a values file into the defaults: null is how a team would empty a selector.
    ['a pod selector naming no label (every pod)', { database: { egress: { podSelector: { matchLabels: null } } } }],
    ['a namespace selector naming no label (every namespace)', { redis: { egress: { namespaceSelector: null } } }],
    ['no CA to verify the server with', { database: { tls: { ca: { configMapName: '', secretName: '' } } } }],
    ['TLS turned off', { database: { tls: { enabled: false } } }],
    ['a password as a value', { database: { password: 'hunter2' } }],
    ['a user that is not an SQL identifier', { database: { user: 'app; DROP' } }],
  ])('the schema refuses %s', async (_what, values) => {
    const lint = await helmLint(chartDir, values);
    expect(lint.exitCode, lint.stdout).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/values don't meet the specifications of the schema|\[ERROR\] values.yaml: - at '\/(database|redis)/);
  });

  it('a MySQL database without Redis: its port 3306, no Redis rule', async () => {
    const objects = await render({}, plainChartDir);
    const egress = egressOf(objects, podLabels(objects, 'Deployment'));
    expect(egress).toHaveLength(2);
    expect(egress).toEqual(expect.arrayContaining([dns, inCluster('mysql', 3306)]));
  });
});
