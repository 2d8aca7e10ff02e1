import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Answers } from '../core/options.js';
import { gatewayDataPlanes, userNamespaceFacts } from '../core/versions.js';
import { supportedKubernetesMinors } from '../lib/check/kubernetes-api.js';
import { checkPodSecurity, extractPodSpecs } from '../lib/policy/pod-security.js';
import { checkExposure } from '../lib/check/exposure-rules.js';
import { FindingSink } from '../lib/check/findings.js';
import { splitManifests } from '../lib/check/kubernetes-rules.js';
import { checkSchemas } from '../lib/check/schema-rules.js';
import { kubernetesTarget } from '../generators/features/kubernetes.js';
import { answersFor } from './support/answers.js';
import { audit, failedRules, generatedService } from './support/check.js';
import { runCli, tempDir } from './support/cli.js';
import { edit, generate, replaceOnce, rewindToOlderGenerator } from './support/older-service.js';
import { helmTemplate, type KubeObject, parseManifests, runHelm, writeService } from './support/kubernetes.js';

// Gateway API exposure: the HTTPRoute every variant renders is valid against Gateway API v1.5 (the schema of
// @kubernetes-models/gateway-api 2.0.0, unknown fields rejected as check does), and the NetworkPolicy admits
// the service port from exactly the data plane data/gateway-data-planes.json records for the answer.

const { helmKubeVersion } = kubernetesTarget();
const { gateway, dataPlanes } = gatewayDataPlanes;
const fill = (text: string) => text.replaceAll('{gatewayName}', gateway.name).replaceAll('{gatewayNamespace}', gateway.namespace);
const current = Object.keys(dataPlanes).filter((k) => !dataPlanes[k as keyof typeof dataPlanes].retired) as Answers['dataPlane'][];

async function render(given: Partial<Record<keyof Answers, string>>, values: Record<string, unknown> = {}) {
  const { dir } = await writeService(await answersFor('my-svc', given));
  const result = await helmTemplate(join(dir, 'chart'), values, { kubeVersion: helmKubeVersion });
  expect(result.exitCode, result.stderr).toBe(0);
  return { dir, text: result.stdout, objects: parseManifests(result.stdout) };
}

/** check's own schema rule (Gateway API v1.5, Cilium; unknown fields rejected) and exposure rules over a render. */
function checkFindings(text: string): string[] {
  const sink = new FindingSink();
  const objects = splitManifests(text, 'rendered.yaml');
  checkSchemas(objects, sink, { kubeVersion: kubernetesTarget().minor });
  checkExposure(objects, sink);
  return sink.result().map((f) => `${f.ruleId} ${f.level} ${f.message}`);
}

const addFile = (dir: string, path: string, text: string) => writeFile(join(dir, path), text);
const kinds = (objects: KubeObject[]) => objects.map((o) => o.kind);
const find = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);

describe.each(current)('--data-plane %s (exposure gateway, the default)', (plane) => {
  it('renders an HTTPRoute valid against Gateway API v1.5, to the chart Service, and a NetworkPolicy admitting exactly the data plane', async () => {
    const { dir, text, objects } = await render({ dataPlane: plane });
    expect(checkFindings(text)).toEqual([]);
    const [route] = find(objects, 'HTTPRoute');
    expect(route!.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route!.spec.parentRefs).toEqual([{ name: gateway.name, namespace: gateway.namespace, sectionName: gateway.sectionName }]);
    expect(route!.spec.rules).toEqual([
      { backendRefs: [{ name: 'my-svc', port: 80, weight: 1 }], matches: [{ path: { type: 'PathPrefix', value: '/' } }] },
    ]);
    const facts = dataPlanes[plane];
    const policy = find(objects, 'NetworkPolicy')[0]!.spec;
    const cilium = find(objects, 'CiliumNetworkPolicy');
    if (facts.entity) {
      expect(policy.ingress ?? []).toEqual([]);
      expect(cilium.map((c) => c.spec.ingress)).toEqual([[{ fromEntities: [facts.entity], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }]]);
    } else {
      expect(cilium).toEqual([]);
      const podLabels = Object.fromEntries(Object.entries(facts.podLabels ?? {}).map(([k, v]) => [k, fill(v)]));
      expect(policy.ingress).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': fill(facts.namespace!) } }, podSelector: { matchLabels: podLabels } }],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ]);
    }
    // No default names the retired controller.
    expect(text).not.toContain('ingress-nginx');
    expect(await readFile(join(dir, 'chart/values.yaml'), 'utf8')).not.toContain('ingress-nginx');
  });
});

describe('HTTPRoute values shaped as helm create scaffolds them', () => {
  const variants: [string, Record<string, unknown>][] = [
    ['rules with matches and filters', {
      httpRoute: {
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'version', value: 'v2' }] }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['User-Agent'] } }] },
          { matches: [{ path: { type: 'Exact', value: '/healthz' }, method: 'GET' }] },
        ],
      },
    }],
    ['several Gateways, a wildcard hostname and annotations', {
      httpRoute: {
        annotations: { 'example.com/team': 'orders' },
        parentRefs: [{ name: 'public', namespace: 'infra', sectionName: 'https' }, { name: 'internal', namespace: 'infra' }],
        hostnames: ['*.orders.example.com', 'orders.example.com'],
      },
    }],
    ['no hostnames (the listener decides)', { httpRoute: { hostnames: [] } }],
  ];
  it.each(variants)('%s: valid against Gateway API v1.5, every rule to the chart Service', async (_name, values) => {
    const { text, objects } = await render({}, values);
    expect(checkFindings(text)).toEqual([]);
    const [route] = find(objects, 'HTTPRoute');
    for (const rule of route!.spec.rules) expect(rule.backendRefs).toEqual([{ name: 'my-svc', port: 80, weight: 1 }]);
  });

  it('the values keep the scaffold keys of helm create (data/gateway-data-planes.json helmScaffold)', async () => {
    const { dir } = await writeService(await answersFor('my-svc'));
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    expect(Object.keys(values.httpRoute)).toEqual(gatewayDataPlanes.helmScaffold.values);
  });

  it.each([
    ['an uppercase hostname', { httpRoute: { hostnames: ['Orders.example.com'] } }, 'httpRoute/hostnames/0'],
    ['an IP address as hostname', { httpRoute: { hostnames: ['10.0.0.1'] } }, 'not a lowercase DNS name'],
    ['no Gateway to attach to', { httpRoute: { parentRefs: [] } }, 'httpRoute/parentRefs'],
    ['a route with nothing admitted to receive it', { networkPolicy: { dataPlane: { implementation: 'none', namespaceSelector: null, podSelector: null } } }, 'networkPolicy.dataPlane.implementation is none'],
  ])('the chart refuses %s', async (_name, values, says) => {
    const { dir } = await writeService(await answersFor('my-svc'));
    const result = await helmTemplate(join(dir, 'chart'), values, { kubeVersion: helmKubeVersion });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(says);
  });
});

describe("the emitted CI's kubeconform knows the new kinds", () => {
  it.each(['github', 'gitlab'])('%s: every CRD kind a variant renders has its schema in the CRDs catalog the pipeline reads', async (ci) => {
    const { dir, objects } = await render({ ci });
    const cilium = await render({ ci, dataPlane: 'cilium' });
    const pipeline = await readFile(join(dir, ci === 'github' ? '.github/workflows/chart.yml' : '.gitlab-ci.yml'), 'utf8');
    const template = /datreeio\/CRDs-catalog\/main\/(\{\{\.Group\}\}\/\{\{\.ResourceKind\}\}_\{\{\.ResourceAPIVersion\}\}\.json)/.exec(pipeline)?.[1];
    expect(template).toBeDefined();
    // Kubernetes' own groups: none (core), a plain name (apps, policy) or *.k8s.io, except Gateway API's, a CRD.
    const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
    const builtIn = (g: string) => !g.includes('.') || (g.endsWith('.k8s.io') && g !== 'gateway.networking.k8s.io');
    const crds = [...objects, ...cilium.objects].filter((o) => !builtIn(group(o.apiVersion)));
    const paths = [...new Set(crds.map((o) => {
      const [group, version] = o.apiVersion.split('/');
      return template!.replace('{{.Group}}', group!).replace('{{.ResourceKind}}', o.kind.toLowerCase()).replace('{{.ResourceAPIVersion}}', version!);
    }))].sort();
    expect(paths).toEqual(Object.keys(gatewayDataPlanes.crdsCatalog.files).sort());
  });
});

describe('--exposure ingress and none', () => {
  it('ingress: no HTTPRoute, the Ingress template off until real hosts, the data plane admitted', async () => {
    const { text, objects } = await render({ exposure: 'ingress' });
    expect(kinds(objects)).not.toContain('HTTPRoute');
    expect(kinds(objects)).not.toContain('Ingress');
    expect(find(objects, 'NetworkPolicy')[0]!.spec.ingress).toHaveLength(1);
    expect(checkFindings(text)).toEqual([]);
    const on = await render({ exposure: 'ingress' }, { ingress: { enabled: true } });
    expect(kinds(on.objects)).toContain('Ingress');
  });

  it('none: no route, and nothing admitted to the service port', async () => {
    const { dir, text, objects } = await render({ exposure: 'none' });
    expect(kinds(objects)).not.toContain('HTTPRoute');
    expect(find(objects, 'NetworkPolicy')[0]!.spec.ingress ?? []).toEqual([]);
    expect(checkFindings(text)).toEqual([]);
    expect(parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8')).networkPolicy.dataPlane).toEqual({ implementation: 'none' });
  });
});

describe("the chart README's install commands", () => {
  /** The `helm install` lines of the Exposure section, continuation lines joined, as helm template runs. */
  function installCommands(readme: string): string[][] {
    const block = /### Exposure[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    return block
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((line) => line.startsWith('helm install '))
      .map((line) => [...line.replace('<digest from CI>', 'a'.repeat(64)).replace('<image CI published>', 'ghcr.io/acme/my-svc').matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!));
  }

  it.each(['gateway', 'ingress', 'none'])('a service answered --exposure %s: each command renders what it says', async (exposure) => {
    const { dir } = await writeService(await answersFor('my-svc', { exposure }));
    const commands = installCommands(await readFile(join(dir, 'chart/README.md'), 'utf8'));
    expect(commands).toHaveLength(3);
    const rendered: string[][] = [];
    for (const args of commands) {
      const result = await runHelm(['template', ...args.slice(2), '--kube-version', helmKubeVersion].map((a) => (a === './chart' ? join(dir, 'chart') : a)));
      expect(result.exitCode, `${args.join(' ')}\n${result.stderr}`).toBe(0);
      expect(checkFindings(result.stdout)).toEqual([]);
      rendered.push(kinds(parseManifests(result.stdout)));
    }
    const [viaGateway, viaIngress, notExposed] = rendered;
    expect(viaGateway).toContain('HTTPRoute');
    expect(viaGateway).not.toContain('Ingress');
    expect(viaIngress).toContain('Ingress');
    expect(viaIngress).not.toContain('HTTPRoute');
    expect(notExposed).not.toContain('Ingress');
    expect(notExposed).not.toContain('HTTPRoute');
  });

  it('the data-plane table says what data/gateway-data-planes.json says', async () => {
    const { dir } = await writeService(await answersFor('my-svc'));
    const readme = await readFile(join(dir, 'chart/README.md'), 'utf8');
    for (const plane of current) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${plane}\` |`));
      const facts = dataPlanes[plane];
      if (facts.entity) expect(row).toContain(`\`${facts.entity}\` identity`);
      else {
        expect(row).toContain(`namespace \`${fill(facts.namespace!)}\``);
        for (const [k, v] of Object.entries(facts.podLabels ?? {})) expect(row).toContain(`\`${k}=${fill(v)}\``);
      }
    }
    expect(readme).not.toContain('| `ingress-nginx` |');
  });
});

/** Audits the service: exactly `rule` fails, saying `says` when given. */
/** `alsoFloor`: a template removed also falls below the generator's own render (CHS-FLOOR-001). */
async function failsOnly(dir: string, rule: string, says?: string, alsoFloor = false): Promise<void> {
  const report = await audit(dir);
  expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual(alsoFloor ? ['CHS-FLOOR-001', rule] : [rule]);
  if (says) expect(report.findings.map((f) => f.message).join('\n')).toContain(says);
}

describe('check: routes and the data plane', () => {
  it('catches an HTTPRoute to a port the Service does not have (CHS-ROUTE-001)', async () => {
    const dir = await generatedService();
    await edit(dir, 'chart/templates/httproute.yaml', (t) => t.replace('port: {{ $.Values.service.port }}', 'port: {{ add $.Values.service.port 1 }}'));
    await failsOnly(dir, 'CHS-ROUTE-001', 'HTTPRoute my-svc: rules[0].backendRefs[0] sends to port 81 of Service my-svc, which has only port 80');
  });

  it('catches a NetworkPolicy opened to a whole namespace, wider than the data plane (CHS-NET-004)', async () => {
    const dir = await generatedService({ dataPlane: 'istio' });
    await addFile(dir, 'chart/values-team.yaml', 'networkPolicy:\n  dataPlane:\n    podSelector:\n      matchLabels: null\n');
    await failsOnly(dir, 'CHS-NET-004', "NetworkPolicy my-svc: ingress[0].from[0] admits every pod of the selected namespaces, wider than a data plane's proxies (rendered with chart/values-team.yaml)");
  });

  it('catches a CiliumNetworkPolicy that admits more than the ingress identity (CHS-NET-004)', async () => {
    const dir = await generatedService({ dataPlane: 'cilium' });
    await edit(dir, 'chart/templates/ciliumnetworkpolicy.yaml', (t) => t.replace('        - ingress\n', '        - ingress\n        - world\n'));
    await failsOnly(dir, 'CHS-NET-004');
  });

  it("catches a NetworkPolicy that no longer admits the answered data plane's proxies (CHS-NET-004)", async () => {
    const dir = await generatedService({ dataPlane: 'envoy-gateway' });
    await addFile(dir, 'chart/values-team.yaml', 'networkPolicy:\n  dataPlane:\n    namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: istio-system\n');
    await failsOnly(dir, 'CHS-NET-004', 'answered --data-plane envoy-gateway, but no NetworkPolicy admits its proxies (namespace envoy-gateway-system, app.kubernetes.io/name=envoy, app.kubernetes.io/component=proxy, app.kubernetes.io/managed-by=envoy-gateway) to the service port (rendered with chart/values-team.yaml)');
    const cilium = await generatedService({ dataPlane: 'cilium' });
    await rm(join(cilium, 'chart/templates/ciliumnetworkpolicy.yaml'));
    await failsOnly(cilium, 'CHS-NET-004', "answered --data-plane cilium, but no CiliumNetworkPolicy admits Cilium's `ingress` identity", true);
  });

  it('a fresh service passes with every data plane, user namespaces on', async () => {
    for (const plane of current) {
      const report = await audit(await generatedService({ dataPlane: plane, userNamespaces: 'on' }));
      expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual([]);
    }
  });
});

describe('user namespaces', () => {
  it('a preset turns them on: the pod gets hostUsers: false and stays restricted', async () => {
    const dir = await generatedService({}, { source: 'acme.yaml', defaults: { userNamespaces: 'on' }, locks: {}, constraints: {} });
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    expect(values.hostUsers).toBe(false);
    const result = await helmTemplate(join(dir, 'chart'), {}, { kubeVersion: helmKubeVersion });
    const deployment = find(parseManifests(result.stdout), 'Deployment')[0]!;
    expect(deployment.spec.template.spec.hostUsers).toBe(false);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, '.hardened-service.json'), 'utf8'));
    expect(manifest.answers.userNamespaces).toBe('on');
  });
});

describe('upgrade of a service made before --exposure and --data-plane', () => {
  // What 0.1.0's chart had, in the places the new answers change: the NetworkPolicy admitted every pod of the
  // namespace ingress-nginx, through networkPolicy.ingressController; no HTTPRoute, no hostUsers.
  const OLDER_POLICY_RULE = [
    '    - from:',
    '        - namespaceSelector:',
    '            {{- toYaml .Values.networkPolicy.ingressController.namespaceSelector | nindent 12 }}',
    '          podSelector:',
    '            {{- toYaml .Values.networkPolicy.ingressController.podSelector | nindent 12 }}',
    '      ports:',
    '        - port: {{ .Values.containerPort }}',
    '          protocol: TCP',
  ].join('\n');
  const OLDER_VALUES = [
    'networkPolicy:',
    '  # Ingress to the service port is allowed only from pods matching this (the ingress controller).',
    '  ingressController:',
    '    namespaceSelector:',
    '      matchLabels:',
    '        kubernetes.io/metadata.name: ingress-nginx',
    '    podSelector: {}',
    '',
  ].join('\n');

  function olderChart(tree: Map<string, Buffer>): void {
    tree.delete('chart/templates/httproute.yaml');
    tree.delete('chart/templates/ciliumnetworkpolicy.yaml');
    const policy = tree.get('chart/templates/networkpolicy.yaml')!.toString();
    tree.set('chart/templates/networkpolicy.yaml', Buffer.from(policy.replace(/ {4}\{\{- with \.Values\.networkPolicy\.dataPlane \}\}[\s\S]*?\{\{- end \}\}\n {4}\{\{- end \}\}/, OLDER_POLICY_RULE)));
    const change = (path: string, find: string) => tree.set(path, Buffer.from(replaceOnce(tree.get(path)!.toString(), find, '')));
    change('chart/templates/_helpers.tpl', '{{- include "svc.validateHTTPRoute" . }}\n');
    change('chart/templates/deployment.yaml', '      {{- if not .Values.hostUsers }}\n      # Its own user namespace: uids in the pod map to unprivileged uids on the node.\n      hostUsers: false\n      {{- end }}\n');
    const notes = tree.get('chart/templates/NOTES.txt')!.toString();
    tree.set('chart/templates/NOTES.txt', Buffer.from(notes.replace(/\{\{- if \.Values\.httpRoute\.enabled \}\}[\s\S]*?Accepted\?.*\n\{\{- end \}\}\n/, '')));
    const values = tree.get('chart/values.yaml')!.toString();
    const older = values
      .replace(/networkPolicy:\n[\s\S]*?podSelector: \{\}\n/, OLDER_VALUES)
      .replace(/# Exposure through Gateway API[\s\S]*?# Exposure through an Ingress: off until hosts and TLS name real ones\.\n/, '')
      .replace(/# User namespaces:[\s\S]*?hostUsers: true\n\n/, '')
      .replace('expose it through httpRoute or ingress.', 'expose the service through the Ingress.');
    expect(older).toContain('ingressController:');
    expect(older).not.toContain('httpRoute');
    expect(older).not.toContain('hostUsers');
    tree.set('chart/values.yaml', Buffer.from(older));
  }

  it("keeps the team's edits and its ingress-nginx source (reported, not replaced), adds the HTTPRoute template, changes no exposure", async () => {
    const parent = await tempDir('chs-gateway-upgrade-');
    const dir = await generate(parent, 'orders', ['--exposure', 'ingress', '--data-plane', 'ingress-nginx']);
    await rewindToOlderGenerator(dir, olderChart, (manifest) => {
      const answers = manifest.answers as Partial<typeof manifest.answers>;
      delete answers.exposure;
      delete answers.dataPlane;
      delete answers.userNamespaces;
    });
    await edit(dir, 'chart/values.yaml', (t) => replaceOnce(t, 'replicaCount: 1', 'replicaCount: 3').replace('  extraIngress: []', '  extraIngress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app: billing\n      ports:\n        - port: 8080'));
    // (The older tree keeps today's values.schema.json, which the older values do not meet: rendered without it.)
    const before = await runHelm(['template', 'orders', join(dir, 'chart'), '--namespace', 'orders', '--kube-version', helmKubeVersion, '--skip-schema-validation', '--set', 'image.repository=ghcr.io/acme/orders']);
    expect(before.exitCode, before.stderr).toBe(0);

    const result = await runCli(['upgrade', dir, '--yes'], { cwd: parent });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('kept --data-plane ingress-nginx, retired upstream (check warns, CHS-NET-005)');
    const manifest = JSON.parse(await readFile(join(dir, '.hardened-service.json'), 'utf8'));
    expect(manifest.answers).toMatchObject({ exposure: 'ingress', dataPlane: 'ingress-nginx', userNamespaces: 'off' });
    const values = parse(await readFile(join(dir, 'chart/values.yaml'), 'utf8'));
    expect(values.replicaCount).toBe(3);
    expect(values.networkPolicy.extraIngress).toEqual([{ from: [{ podSelector: { matchLabels: { app: 'billing' } } }], ports: [{ port: 8080 }] }]);
    expect(values.networkPolicy.dataPlane).toEqual({ implementation: 'ingress-nginx', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} });
    expect(values.httpRoute.enabled).toBe(false);
    expect(values.hostUsers).toBe(true);
    expect(await readFile(join(dir, 'chart/templates/httproute.yaml'), 'utf8')).toContain('kind: HTTPRoute');

    // The same objects as before the upgrade: exposure and the admitted sources did not change.
    const after = await helmTemplate(join(dir, 'chart'), {}, { release: 'orders', namespace: 'orders', kubeVersion: helmKubeVersion });
    expect(after.exitCode, after.stderr).toBe(0);
    const policyOf = (text: string) => parseManifests(text).find((o) => o.kind === 'NetworkPolicy')!.spec.ingress;
    expect(policyOf(after.stdout)).toEqual(policyOf(before.stdout));
    expect(kinds(parseManifests(after.stdout)).sort()).toEqual(kinds(parseManifests(before.stdout)).sort());

    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual([]);
    expect(report.findings.filter((f) => f.ruleId === 'CHS-NET-005').map((f) => f.level)).toEqual(['warning']);
  });
});

describe('user namespaces and Pod Security, against the upstream fixtures', () => {
  const fixtures = fileURLToPath(new URL('fixtures/pod-security-admission/restricted', import.meta.url));
  const relaxed = userNamespaceFacts.podSecurityRelaxes.filter((c) => c !== 'procMount');

  it.each(supportedKubernetesMinors)(
    'Kubernetes %s: pods upstream rejects for runAsNonRoot or runAsUser pass once they run in a user namespace; the chart pod passes either way',
    async (minor) => {
      const failing = readdirSync(join(fixtures, `v${minor}`, 'fail')).filter((f) => relaxed.some((c) => f.startsWith(c.toLowerCase())));
      expect(failing.length).toBeGreaterThan(3);
      for (const file of failing) {
        const pod = parse(readFileSync(join(fixtures, `v${minor}`, 'fail', file), 'utf8'));
        const control = relaxed.find((c) => file.startsWith(c.toLowerCase()))!;
        expect(checkPodSecurity(pod, 'restricted', `v${minor}`).map((f) => f.control), file).toContain(control);
        const inUserNamespace = { ...pod, spec: { ...pod.spec, hostUsers: false } };
        const relaxes = Number(minor.split('.')[1]) >= Number(userNamespaceFacts.podSecurityRelaxesFrom.split('.')[1]);
        expect(checkPodSecurity(inUserNamespace, 'restricted', `v${minor}`).map((f) => f.control).includes(control), file).toBe(!relaxes);
      }
      const { text } = await render({ userNamespaces: 'on' });
      for (const pod of extractPodSpecs(text)) expect(checkPodSecurity(pod.object, 'restricted', `v${minor}`)).toEqual([]);
    },
  );

  it('the chart README states the node requirements data/kubernetes-api.json records', async () => {
    const { dir } = await writeService(await answersFor('my-svc', { userNamespaces: 'on' }));
    const readme = (await readFile(join(dir, 'chart/README.md'), 'utf8')).replace(/\s+/g, ' ');
    const f = userNamespaceFacts;
    for (const claim of [
      `stable since Kubernetes ${f.stableIn}`,
      `Linux ≥ ${f.linux} and containerd ≥ ${f.containerd} or CRI-O ≥ ${f.crio}, with runc ≥ ${f.runc}`,
      `containerd ${f.containerdSilentlyIgnoresUpTo} and older accept the pod and silently run it without a user namespace`,
      `From Kubernetes ${f.podSecurityRelaxesFrom}, Pod Security`,
      'on for this service',
    ]) expect(readme).toContain(claim);
  });
});
