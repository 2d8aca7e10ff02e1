import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit, failedRules, generatedService } from './support/check.js';
import { replaceOnce } from './support/older-service.js';

// CHS-FLOOR-001 holds the service's chart to what the generator renders for its answers. Each weakening below
// passed every other rule before the floor existed (a LoadBalancer, an open ingress, a mounted token, an Ingress
// without TLS, cluster-admin, a writable root filesystem); each now fails it, with the property and the file.

async function edit(dir: string, path: string, change: (text: string) => string): Promise<void> {
  await writeFile(join(dir, path), change(await readFile(join(dir, path), 'utf8')));
}

async function addFile(dir: string, path: string, text: string): Promise<void> {
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), text);
}

const meta = 'metadata:\n  name: {{ include "svc.fullname" . }}-public\n  namespace: {{ .Release.Namespace }}\n';

const weakenings: { name: string; weaken: (dir: string) => Promise<void>; file: string; says: string; also?: string[] }[] = [
  {
    name: 'a new template adds a LoadBalancer Service',
    weaken: (dir) => addFile(dir, 'chart/templates/public.yaml', `apiVersion: v1\nkind: Service\n${meta}spec:\n  type: LoadBalancer\n  selector:\n    {{- include "svc.selectorLabels" . | nindent 4 }}\n  ports:\n    - port: 443\n      targetPort: http\n`),
    file: 'chart/templates/public.yaml',
    says: 'spec.type is LoadBalancer; the generator renders ClusterIP only',
  },
  {
    name: 'service.yaml edited to NodePort',
    weaken: (dir) => edit(dir, 'chart/templates/service.yaml', (t) => replaceOnce(t, 'type: {{ .Values.service.type }}', 'type: NodePort')),
    file: 'chart/templates/service.yaml',
    says: 'spec.type is NodePort',
  },
  {
    name: 'networkPolicy.extraIngress from 0.0.0.0/0 on every port',
    weaken: (dir) => addFile(dir, 'chart/ci/open-ingress.yaml', 'networkPolicy:\n  extraIngress:\n    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n'),
    file: 'chart/templates/networkpolicy.yaml',
    says: 'ingress[1] allows no ports: every port',
  },
  {
    name: 'automountServiceAccountToken: true in the Deployment',
    weaken: (dir) => edit(dir, 'chart/templates/deployment.yaml', (t) => replaceOnce(t, 'automountServiceAccountToken: false', 'automountServiceAccountToken: true')),
    file: 'chart/templates/deployment.yaml',
    says: 'automountServiceAccountToken is true; the generator renders false',
  },
  {
    name: 'automountServiceAccountToken: true on the ServiceAccount',
    weaken: (dir) => edit(dir, 'chart/templates/serviceaccount.yaml', (t) => replaceOnce(t, 'automountServiceAccountToken: false', 'automountServiceAccountToken: true')),
    file: 'chart/templates/serviceaccount.yaml',
    says: 'ServiceAccount my-svc: automountServiceAccountToken is true',
  },
  {
    name: 'an Ingress without TLS (the tls block removed from the template, ingress on)',
    weaken: async (dir) => {
      await edit(dir, 'chart/templates/ingress.yaml', (t) => t.replace(/  tls:\n[\s\S]*?(?=  rules:)/, ''));
      await edit(dir, 'chart/values.yaml', (t) => replaceOnce(t, 'ingress:\n  enabled: false', 'ingress:\n  enabled: true'));
    },
    file: 'chart/templates/ingress.yaml',
    says: 'spec.tls does not cover my-svc.example.com',
  },
  {
    name: 'a ClusterRoleBinding to cluster-admin',
    weaken: (dir) => addFile(dir, 'chart/templates/admin.yaml', `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n${meta.replace('  namespace: {{ .Release.Namespace }}\n', '')}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: {{ include "svc.serviceAccountName" . }}\n    namespace: {{ .Release.Namespace }}\n`),
    file: 'chart/templates/admin.yaml',
    says: 'granting ClusterRole cluster-admin',
  },
  {
    name: 'an HTTPRoute added by hand (an exposure the generator does not render for these values)',
    weaken: (dir) =>
      addFile(dir, 'chart/templates/route.yaml', `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n${meta}spec:\n  parentRefs:\n    - name: public\n      namespace: gateways\n  rules:\n    - backendRefs:\n        - name: {{ include "svc.fullname" . }}\n          port: 80\n`),
    file: 'chart/templates/route.yaml',
    says: 'HTTPRoute my-svc-public: the generator renders no such route for these values',
  },
  {
    name: 'readOnlyRootFilesystem: false through the escape hatch',
    weaken: (dir) =>
      edit(dir, 'chart/values.yaml', (t) =>
        replaceOnce(t, 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false').replace('allowWeakerSecurity: false', 'allowWeakerSecurity: true').replace(/reason: ""/, 'reason: "writes a cache to /app until PLAT-7"'),
      ),
    file: 'chart/templates/deployment.yaml',
    says: 'container "my-svc": securityContext.readOnlyRootFilesystem is false; the generator renders true',
  },
];

describe('CHS-FLOOR-001: no weaker than what the generator renders', () => {
  it.each(weakenings.map((w) => [w.name, w] as const))('%s', async (_name, w) => {
    const dir = await generatedService();
    await w.weaken(dir);
    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toContain('CHS-FLOOR-001');
    const floor = report.findings.filter((f) => f.ruleId === 'CHS-FLOOR-001');
    expect(floor.map((f) => `${f.file}: ${f.message}`).join('\n')).toContain(`${w.file}: `);
    expect(floor.map((f) => f.message).join('\n')).toContain(w.says);
  });
});

describe('CHS-FLOOR-001 lets through what the values are for', () => {
  it('ingress on with TLS, a Role of values rbac.rules, a named extra ingress peer, metrics, autoscaling: no floor finding', async () => {
    const dir = await generatedService();
    await addFile(
      dir,
      'chart/values-prod.yaml',
      [
        'ingress:\n  enabled: true',
        'rbac:\n  create: true\n  rules:\n    - apiGroups: [""]\n      resources: ["configmaps"]\n      resourceNames: ["my-svc-settings"]\n      verbs: ["get"]',
        'networkPolicy:\n  extraIngress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: gateway\n      ports:\n        - port: 3000\n          protocol: TCP',
        'metrics:\n  enabled: true',
        'autoscaling:\n  enabled: true',
        'resources:\n  limits:\n    cpu: "2"\n    memory: 512Mi\n    ephemeral-storage: 256Mi\n  requests:\n    cpu: 200m\n    memory: 256Mi\n    ephemeral-storage: 64Mi',
      ].join('\n') + '\n',
    );
    const report = await audit(dir);
    expect(report.findings.filter((f) => f.ruleId === 'CHS-FLOOR-001')).toEqual([]);
    expect(report.rules.find((r) => r.rule.id === 'CHS-FLOOR-001')?.status).toBe('pass');
  });

  it('a container added by hand is held to what every generated container shares', async () => {
    const dir = await generatedService();
    await edit(dir, 'chart/templates/deployment.yaml', (t) =>
      replaceOnce(t, '      containers:\n', '      containers:\n        - name: sidecar\n          image: registry.example/sidecar@sha256:' + 'a'.repeat(64) + '\n'),
    );
    const report = await audit(dir);
    const messages = report.findings.filter((f) => f.ruleId === 'CHS-FLOOR-001').map((f) => f.message).join('\n');
    expect(messages).toContain('container "sidecar": securityContext.readOnlyRootFilesystem is unset; the generator renders true');
    expect(messages).toContain('container "sidecar": livenessProbe is unset');
  });
});
