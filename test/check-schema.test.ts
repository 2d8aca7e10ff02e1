import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit, auditManifests, failedRules, generatedService } from './support/check.js';

// CHS-SCHEMA-001..003 (the published schema strictly, API versions, names/labels/quantities) and CHS-FIT-001
// (the namespace admits the chart's pods at full scale). Each error is caught by its rule, nothing else fails.

async function edit(dir: string, path: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(dir, path), 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`${path} did not change: update this test`);
  await writeFile(join(dir, path), after);
}
async function addFile(dir: string, path: string, text: string): Promise<void> {
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), text);
}
const EVERYTHING_ON = `metrics:
  enabled: true
  serviceMonitor:
    enabled: true
autoscaling:
  enabled: true
ingress:
  enabled: true
`;

// `floor`: the broken field also drops what the generator renders (a securityContext, the Service), so CHS-FLOOR-001 fails too.
const cases: { name: string; change: (dir: string) => Promise<void>; rule: string; says: string; floor?: string }[] = [
  {
    name: 'a misspelled field in the Deployment template',
    change: (dir) => edit(dir, 'chart/templates/deployment.yaml', (t) => t.replace('securityContext:', 'securityContxt:')),
    rule: 'CHS-SCHEMA-001',
    says: 'Deployment my-svc: spec.template.spec.securityContxt: unknown field (not in the apps/v1 Deployment schema)',
    floor: 'Deployment my-svc: securityContext.runAsNonRoot is unset; the generator renders true',
  },
  {
    name: 'a wrong type in the Deployment template',
    change: (dir) => edit(dir, 'chart/templates/deployment.yaml', (t) => t.replace(/^( {2}revisionHistoryLimit: ).*$/m, '$1"ten"')),
    rule: 'CHS-SCHEMA-001',
    says: 'spec.revisionHistoryLimit: must be integer',
  },
  {
    name: 'a wrong enum value in the Service template',
    change: (dir) => edit(dir, 'chart/templates/service.yaml', (t) => t.replace(/protocol: TCP/, 'protocol: HTTP')),
    rule: 'CHS-SCHEMA-001',
    says: 'spec.ports[0].protocol: must be one of "SCTP", "TCP", "UDP"',
  },
  {
    name: 'a misspelled field in the ServiceMonitor (its CRD schema)',
    change: async (dir) => {
      await addFile(dir, 'chart/ci/everything.yaml', EVERYTHING_ON);
      await edit(dir, 'chart/templates/servicemonitor.yaml', (t) => t.replace('      interval:', '      intervall:'));
    },
    rule: 'CHS-SCHEMA-001',
    says: 'ServiceMonitor my-svc: spec.endpoints[0].intervall: unknown field',
  },
  {
    name: 'a removed API version in deploy/',
    change: (dir) => addFile(dir, 'deploy/pdb.yaml', 'apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: { name: extra, namespace: my-svc }\nspec: { maxUnavailable: 1, selector: { matchLabels: { app: x } } }\n'),
    rule: 'CHS-SCHEMA-002',
    says: 'policy/v1beta1 PodDisruptionBudget is not served since Kubernetes 1.25 (target 1.35): use policy/v1',
  },
  {
    name: 'a ConfigMap name that is not a DNS-1123 subdomain',
    change: (dir) => addFile(dir, 'deploy/config.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: My_Config, namespace: my-svc }\ndata: { a: b }\n'),
    rule: 'CHS-SCHEMA-003',
    says: 'metadata.name "My_Config" must be a DNS-1123 subdomain',
  },
  {
    name: 'a Service name that is not a DNS-1035 label',
    // The route is turned off: it would name the renamed Service's old name (CHS-ROUTE-001, tested on its own).
    change: async (dir) => {
      await edit(dir, 'chart/templates/service.yaml', (t) => t.replace(/^( {2}name: ).*$/m, '$1"1-api"'));
      await edit(dir, 'chart/values.yaml', (t) => t.replace('httpRoute:\n  enabled: true', 'httpRoute:\n  enabled: false'));
    },
    rule: 'CHS-SCHEMA-003',
    says: 'metadata.name "1-api" must be a DNS-1035 label',
    floor: 'Service my-svc is missing; the generator renders it',
  },
  {
    name: 'a label value with spaces',
    change: (dir) => addFile(dir, 'deploy/config.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: my-svc\n  labels: { team: "payments and billing" }\n'),
    rule: 'CHS-SCHEMA-003',
    says: 'metadata.labels["team"]: value "payments and billing" must be at most 63 characters',
  },
  {
    name: 'an annotation key with two slashes',
    change: (dir) => addFile(dir, 'chart/values-team.yaml', 'podAnnotations:\n  "example.com/a/b": "x"\n'),
    rule: 'CHS-SCHEMA-003',
    says: 'annotations: key "example.com/a/b" has more than one /',
  },
  {
    name: 'a memory quantity in MB',
    change: (dir) => edit(dir, 'chart/templates/deployment.yaml', (t) => t.replace('{{- toYaml .Values.resources | nindent 12 }}', '{{- toYaml .Values.resources | replace "256Mi" "256MB" | nindent 12 }}')),
    rule: 'CHS-SCHEMA-003',
    says: 'spec.template.spec.containers[0].resources.limits.memory: "256MB" is not a Kubernetes quantity',
  },
  // The chart refuses values beyond its namespaceLimits; a namespace made stricter than the chart knows (which
  // the namespace rules allow) is what only CHS-FIT-001 sees.
  {
    name: 'a namespace quota tightened below the chart at full scale',
    change: async (dir) => {
      await addFile(dir, 'chart/ci/scale.yaml', 'autoscaling:\n  enabled: true\n  maxReplicas: 5\n');
      await edit(dir, 'deploy/namespace.yaml', (t) => t.replace(/pods: "20"/, 'pods: "6"'));
    },
    rule: 'CHS-FIT-001',
    says: 'at full scale (Deployment my-svc: 7 pods (HorizontalPodAutoscaler maxReplicas 5 + 2 rollout surge)) the pods need pods 7, above the namespace quota 6',
  },
  {
    name: 'a namespace LimitRange maximum tightened below the chart',
    change: (dir) => edit(dir, 'deploy/namespace.yaml', (t) => t.replace(/(max:\n(?: {8}.*\n)*? {8}memory: )\S+/, '$1"128Mi"')),
    rule: 'CHS-FIT-001',
    says: 'container "my-svc" memory limit 256Mi is above the LimitRange maximum 128Mi: the namespace rejects its pods',
  },
];

describe('schema and admission-fit errors are caught by the named rule', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = await generatedService();
    await c.change(dir);
    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual(c.floor ? ['CHS-FLOOR-001', c.rule].sort() : [c.rule]);
    if (c.floor) expect(report.findings.filter((f) => f.ruleId === 'CHS-FLOOR-001').map((f) => f.message).join('\n')).toContain(c.floor);
    expect(report.findings.filter((f) => f.ruleId === c.rule).map((f) => f.message).join('\n')).toContain(c.says);
  });

  it('a fresh service with every chart feature on (metrics, ServiceMonitor, autoscaling, ingress) passes the schema and fit rules', async () => {
    const dir = await generatedService();
    await addFile(dir, 'chart/ci/everything.yaml', EVERYTHING_ON);
    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual([]);
    expect(report.renders).toContain('chart/ci/everything.yaml');
  });

  it('a deprecated API version warns without failing', async () => {
    const dir = await generatedService();
    await addFile(dir, 'deploy/endpoints.yaml', 'apiVersion: v1\nkind: Endpoints\nmetadata: { name: legacy, namespace: my-svc }\nsubsets: []\n');
    const report = await audit(dir);
    expect(failedRules(report)).toEqual([]);
    expect(report.rules.find((r) => r.rule.id === 'CHS-SCHEMA-002')?.status).toBe('warn');
  });

  it('--manifests: a misspelled field and a kind without a schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chs-schema-'));
    await writeFile(
      join(dir, 'objects.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec: { ports: [{ port: 80, targetPortt: 8080 }] }\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\nspec: { size: 3 }\n',
    );
    const report = await auditManifests(join(dir, 'objects.yaml'));
    expect(failedRules(report)).toEqual(['CHS-SCHEMA-001']);
    const messages = report.findings.filter((f) => f.ruleId === 'CHS-SCHEMA-001');
    expect(messages.map((f) => `${f.level} ${f.message}`)).toEqual([
      'error Service api: spec.ports[0].targetPortt: unknown field (not in the v1 Service schema)',
      expect.stringMatching(/^warning Widget w: no schema for example.com\/v1 Widget is bundled/),
    ]);
  });
});
