import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartNames, kubernetesTarget, NAMESPACE_POLICY } from '../generators/features/kubernetes.js';
import { answersFor } from './support/answers.js';
import { edgeValues, refusedValues } from './support/chart-values.js';
import { helmLint, helmTemplate, type KubeObject, parseManifests, validateKubernetesObject, writeService } from './support/kubernetes.js';
import { apiServerProblems, milli, namespaceAdmissionProblems } from './support/namespace-admission.js';

// Values a team may set, held against what the cluster does with the objects they render: the chart refuses
// every value the API server or the namespace would reject, with one line naming the value and the rule, and
// renders every good value at the edge of those rules into objects the cluster admits.
const { helmKubeVersion } = kubernetesTarget();
let chartDir: string;
let namespaceObjects: KubeObject[];

beforeAll(async () => {
  const { dir } = await writeService();
  chartDir = join(dir, 'chart');
  namespaceObjects = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
});

/** The lines of helm's stderr that say what is wrong: a template `fail` message, or a schema error line. */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .flatMap((line) => {
      const failed = /^Error: execution error at \([^)]+\): (.*)$/.exec(line);
      if (failed) return [failed[1]!];
      return line.startsWith('- at ') ? [line] : [];
    });
}

/** Every problem the cluster would have with the objects: schema, API server validation, namespace admission. */
async function clusterProblems(objects: KubeObject[], namespace = namespaceObjects): Promise<string[]> {
  const schema = (await Promise.all(objects.map(validateKubernetesObject))).flat();
  return [...schema, ...apiServerProblems(objects), ...namespaceAdmissionProblems(objects, namespace)];
}

describe('the chart refuses every value the cluster would reject, with one line naming the value and the rule', () => {
  it.each(Object.keys(refusedValues))('%s', async (name) => {
    const { values, release, error } = refusedValues[name]!;
    const result = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion, ...(release ? { release } : {}) });
    expect(result.exitCode, result.stdout).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([error]);
  });
});

describe('good values at the edge of each rule render objects the cluster admits', () => {
  it.each(Object.keys(edgeValues))('%s', async (name) => {
    const { values, release } = edgeValues[name]!;
    const lint = await helmLint(chartDir, values);
    expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    const result = await helmTemplate(chartDir, values, { kubeVersion: helmKubeVersion, ...(release ? { release } : {}) });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await clusterProblems(parseManifests(result.stdout))).toEqual([]);
  });
});

describe('services whose name is at the edge of what the generator accepts', () => {
  // 58 and 60 characters used to cut helm.sh/chart to "…-0.1." (a label ending in a dot); 63 is the maximum;
  // a leading digit cannot start a Service name (the chart README's `helm install 3d-render`).
  it.each([`s${'a'.repeat(57)}`, `s${'b'.repeat(59)}`, `s${'c'.repeat(62)}`, '3d-render', `9${'d'.repeat(62)}`])(
    '%s: the install command its README gives renders objects the cluster admits',
    async (name) => {
      const { dir } = await writeService(await answersFor(name));
      const readme = await readFile(join(dir, 'chart/README.md'), 'utf8');
      const [, release, namespace] = /helm install (\S+) \.\/chart --namespace (\S+)/.exec(readme)!;
      expect(release).toBe(chartNames(name).release);
      const result = await helmTemplate(join(dir, 'chart'), {}, { release: release!, namespace: namespace!, kubeVersion: helmKubeVersion });
      expect(result.exitCode, result.stderr).toBe(0);
      const objects = parseManifests(result.stdout);
      const namespaceOfService = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
      expect(await clusterProblems(objects, namespaceOfService)).toEqual([]);
      expect(objects.find((o) => o.kind === 'Deployment')!.metadata.labels?.['helm.sh/chart']).toBe(`${name.slice(0, 57)}-0.1.0`);
    },
  );
});

describe('the namespace and the chart read the same numbers', () => {
  it('deploy/namespace.yaml and values.yaml namespaceLimits are both NAMESPACE_POLICY', async () => {
    const { dir } = await writeService();
    const [, quota, limitRange] = parseManifests(await readFile(join(dir, 'deploy/namespace.yaml'), 'utf8'));
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    expect(quota!.spec.hard).toEqual(NAMESPACE_POLICY.quota);
    expect(limitRange!.spec.limits).toEqual([{ type: 'Container', ...NAMESPACE_POLICY.limitRange }]);
    expect(values.namespaceLimits).toEqual({ containerMax: NAMESPACE_POLICY.limitRange.max, quota: NAMESPACE_POLICY.quota });
  });
});

describe('the admission simulation is not vacuous', () => {
  it('reads quantities as the API server does', () => {
    expect(milli('4')).toBe(milli('4000m'));
    expect(milli('4Gi')).toBe(milli('4096Mi'));
    expect(milli('0.5')).toBe(500);
    expect(milli('1e3')).toBe(milli('1k'));
    expect(() => milli('10iM')).toThrow('not a quantity');
  });

  it('catches bad names and labels, duplicate ports and mounts, requests above limits, LimitRange, quota and PSA', () => {
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'Bad.Name', labels: { 'helm.sh/chart': 'svc-0.1.', version: '_latest' } },
      spec: {
        replicas: 18,
        selector: { matchLabels: { app: 'a' } },
        template: {
          metadata: { labels: { app: 'b' } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'i',
                ports: [{ containerPort: 80 }, { containerPort: 80 }],
                volumeMounts: [{ name: 'a', mountPath: '/tmp' }, { name: 'b', mountPath: '/tmp' }],
                resources: { requests: { cpu: '2' }, limits: { cpu: '1', memory: '5Gi' } },
              },
            ],
          },
        },
      },
    };
    const service: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '3d-render' },
      spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 80 }] },
    };
    const problems = [...apiServerProblems([deployment, service]), ...namespaceAdmissionProblems([deployment, service], namespaceObjects)].join('\n');
    for (const expected of [
      'Deployment Bad.Name: invalid name',
      'label helm.sh/chart value "svc-0.1." is invalid',
      'label version value "_latest" is invalid',
      'selector app does not match the template labels',
      'duplicate container port 80',
      'duplicate mount path /tmp',
      'cpu request 2 above its limit 1',
      'limits.memory 5Gi above the LimitRange maximum 4Gi',
      'ResourceQuota: pods would reach 23, above 20',
      'ResourceQuota: services.nodeports would reach 2, above 0',
      'Service 3d-render: invalid name',
      'Service 3d-render: duplicate port 80/TCP',
      'Pod Security restricted v1.35: runAsNonRoot',
    ])
      expect(problems).toContain(expected);
  });
});
