import { checkPodSecurity } from '../../lib/policy/pod-security.js';
import type { KubeObject } from './kubernetes.js';

/**
 * What the API server and the namespace (deploy/namespace.yaml) would do with rendered objects, simulated
 * without a cluster: the object validation the OpenAPI schema does not express (names, labels, duplicate
 * ports and mount paths, requests above limits), Pod Security Admission, the LimitRange and the ResourceQuota.
 * Written from the Kubernetes rules, independently of the chart's own checks, so each is a check on the other.
 */

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity in milli-units, rounded up as the API server rounds (cpu to 1m). */
export function milli(quantity: string | number): number {
  const text = String(quantity);
  const match = /^([+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$/.exec(text);
  if (!match) throw new Error(`not a quantity: ${text}`);
  const [, number, suffix = ''] = match;
  const scale = suffix in SUFFIX ? SUFFIX[suffix]! : 10 ** Number(suffix.slice(1));
  return Math.ceil(Number(number) * scale * 1000 - 1e-6);
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const WILDCARD_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelProblems(where: string, labels: Record<string, unknown> | undefined): string[] {
  return Object.entries(labels ?? {}).flatMap(([key, value]) => {
    const slash = key.lastIndexOf('/');
    const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : ['', key];
    const problems: string[] = [];
    if ((prefix && !DNS_1123_SUBDOMAIN.test(prefix)) || !LABEL_NAME.test(name)) problems.push(`${where}: label key ${key} is invalid`);
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) problems.push(`${where}: label ${key} value ${JSON.stringify(value)} is invalid`);
    return problems;
  });
}

function duplicates<T>(values: T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

/** The Deployment's pod template spec, or undefined. */
function podTemplate(object: KubeObject) {
  return object.kind === 'Deployment' ? object.spec?.template : undefined;
}

/** Validation the API server does beyond the OpenAPI schema, for the kinds the chart emits. */
export function apiServerProblems(objects: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.name}`;
    const nameRule = o.kind === 'Service' ? DNS_1035_LABEL : DNS_1123_SUBDOMAIN;
    if (!nameRule.test(o.metadata.name)) problems.push(`${where}: invalid name`);
    problems.push(...labelProblems(where, o.metadata.labels));
    if (o.kind === 'Service') {
      const ports = (o.spec.ports ?? []) as { port: number; protocol?: string; name?: string }[];
      for (const d of duplicates(ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`))) problems.push(`${where}: duplicate port ${d}`);
      problems.push(...labelProblems(`${where} selector`, o.spec.selector));
    }
    if (o.kind === 'Ingress') {
      for (const rule of o.spec.rules ?? []) if (rule.host && !WILDCARD_HOST.test(rule.host)) problems.push(`${where}: invalid host ${rule.host}`);
      for (const tls of o.spec.tls ?? []) for (const host of tls.hosts ?? []) if (!WILDCARD_HOST.test(host)) problems.push(`${where}: invalid TLS host ${host}`);
    }
    const template = podTemplate(o);
    if (!template) continue;
    problems.push(...labelProblems(`${where} pod template`, template.metadata?.labels));
    problems.push(...labelProblems(`${where} selector`, o.spec.selector?.matchLabels));
    for (const [key, value] of Object.entries(o.spec.selector?.matchLabels ?? {}))
      if (template.metadata?.labels?.[key] !== value) problems.push(`${where}: selector ${key} does not match the template labels`);
    for (const c of template.spec.containers ?? []) {
      const at = `${where} container ${c.name}`;
      if (!DNS_1123_LABEL.test(c.name)) problems.push(`${at}: invalid container name`);
      for (const d of duplicates(((c.volumeMounts ?? []) as { mountPath: string }[]).map((m) => m.mountPath))) problems.push(`${at}: duplicate mount path ${d}`);
      for (const d of duplicates(((c.ports ?? []) as { containerPort: number }[]).map((p) => p.containerPort))) problems.push(`${at}: duplicate container port ${d}`);
      for (const [resource, request] of Object.entries(c.resources?.requests ?? {})) {
        const limit = c.resources?.limits?.[resource];
        if (limit !== undefined && milli(request as string) > milli(limit)) problems.push(`${at}: ${resource} request ${request} above its limit ${limit}`);
      }
    }
  }
  return problems;
}

/** Pods a Deployment runs at most: its replicas (or its HPA's maximum) plus the rolling update's surge. */
function peakPods(deployment: KubeObject, objects: KubeObject[]): number {
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef?.name === deployment.metadata.name);
  const replicas = hpa ? Number(hpa.spec.maxReplicas) : Number(deployment.spec.replicas ?? 1);
  const surge = String(deployment.spec.strategy?.rollingUpdate?.maxSurge ?? '25%');
  return replicas + (surge.endsWith('%') ? Math.ceil((replicas * Number(surge.slice(0, -1))) / 100) : Number(surge));
}

/**
 * What the namespace admits: Pod Security Admission at the namespace's enforce level and version, the
 * LimitRange (defaults filled in, then the maximum per container) and the ResourceQuota for every pod at
 * its peak and every Service. `namespace` holds the objects of deploy/namespace.yaml.
 */
export function namespaceAdmissionProblems(objects: KubeObject[], namespace: KubeObject[]): string[] {
  const problems: string[] = [];
  const ns = namespace.find((o) => o.kind === 'Namespace')!;
  const level = ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] as 'restricted';
  const version = ns.metadata.labels?.['pod-security.kubernetes.io/enforce-version'] ?? 'latest';
  const limitRange = namespace.find((o) => o.kind === 'LimitRange')?.spec.limits.find((l: { type: string }) => l.type === 'Container');
  const hard: Record<string, string> = namespace.find((o) => o.kind === 'ResourceQuota')?.spec.hard ?? {};
  const used: Record<string, number> = {};
  const use = (key: string, amount: number) => (used[key] = (used[key] ?? 0) + amount);

  for (const o of objects) {
    if (o.kind === 'Service') {
      if (o.spec.type === 'NodePort' || o.spec.type === 'LoadBalancer') use('services.nodeports', (o.spec.ports ?? []).length * 1000);
      if (o.spec.type === 'LoadBalancer') use('services.loadbalancers', 1000);
    }
    if (o.kind === 'PersistentVolumeClaim') use('persistentvolumeclaims', 1000);
    const template = podTemplate(o);
    if (!template) continue;
    for (const f of checkPodSecurity(o, level, version)) problems.push(`${o.kind} ${o.metadata.name}: Pod Security ${level} ${version}: ${f.control}`);
    const pods = peakPods(o, objects);
    use('pods', pods * 1000);
    for (const c of template.spec.containers ?? []) {
      for (const kind of ['requests', 'limits'] as const) {
        const defaults = (kind === 'limits' ? limitRange?.default : limitRange?.defaultRequest) ?? {};
        const resources = { ...defaults, ...c.resources?.[kind] } as Record<string, string>;
        for (const [resource, amount] of Object.entries(resources)) {
          const max = limitRange?.max?.[resource];
          if (max !== undefined && milli(amount) > milli(max))
            problems.push(`${o.kind} ${o.metadata.name} container ${c.name}: ${kind}.${resource} ${amount} above the LimitRange maximum ${max}`);
          use(`${kind}.${resource}`, pods * milli(amount));
        }
      }
    }
  }
  for (const [key, amount] of Object.entries(used)) {
    if (hard[key] !== undefined && amount > milli(hard[key]))
      problems.push(`ResourceQuota: ${key} would reach ${amount / 1000}, above ${hard[key]}`);
  }
  return problems;
}
