import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';
import { parseQuantity } from './quantity.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function quantityMap(map: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(obj(map))) {
    const n = parseQuantity(v);
    if (n !== undefined) out.set(k, n);
  }
  return out;
}
/** Tightest value per key over several maps (every LimitRange and ResourceQuota of a namespace applies). */
function tightest(maps: Map<string, number>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, Math.min(v, out.get(k) ?? Infinity));
  return out;
}
function show(resource: string, n: number): string {
  if (resource.endsWith('cpu')) return n < 1 ? `${Math.round(n * 1000)}m` : `${Number(n.toFixed(3))}`;
  if (/memory|storage/.test(resource)) return n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30}Gi` : `${Math.round(n / 2 ** 20)}Mi`;
  return String(n);
}

const RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

interface NamespacePolicy {
  containerMax: Map<string, number>;
  containerMin: Map<string, number>;
  ratio: Map<string, number>;
  defaults: Map<string, number>;
  defaultRequests: Map<string, number>;
  podMax: Map<string, number>;
  quota: Map<string, number>;
}

function namespacePolicy(objects: LocatedObject[], namespace: string): NamespacePolicy {
  const mine = objects.filter((o) => obj(o.object.metadata).namespace === namespace);
  const limits = mine.filter((o) => o.object.kind === 'LimitRange').flatMap((o) => list(obj(o.object.spec).limits));
  const ofType = (type: string, section: string) => tightest(limits.filter((l) => l.type === type).map((l) => quantityMap(l[section])));
  const first = (section: string) => {
    const out = new Map<string, number>();
    for (const l of limits.filter((x) => x.type === 'Container')) for (const [k, v] of quantityMap(l[section])) if (!out.has(k)) out.set(k, v);
    return out;
  };
  return {
    containerMax: ofType('Container', 'max'),
    containerMin: first('min'),
    ratio: ofType('Container', 'maxLimitRequestRatio'),
    defaults: first('default'),
    defaultRequests: first('defaultRequest'),
    podMax: ofType('Pod', 'max'),
    quota: tightest(mine.filter((o) => o.object.kind === 'ResourceQuota').map((o) => quantityMap(obj(o.object.spec).hard))),
  };
}

interface Workload {
  located: LocatedObject;
  kind: string;
  name: string;
  pod: Obj;
  /** Pods at full scale, and how that number came about. */
  pods: number;
  why: string;
}

function surge(spec: Obj, replicas: number): number {
  const strategy = obj(spec.strategy);
  if (strategy.type === 'Recreate') return 0;
  const maxSurge = obj(strategy.rollingUpdate).maxSurge ?? '25%';
  if (typeof maxSurge === 'number') return maxSurge;
  const percent = /^(\d+)%$/.exec(String(maxSurge));
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : 0;
}

function workloads(objects: LocatedObject[]): Workload[] {
  const hpas = objects.filter((o) => o.object.kind === 'HorizontalPodAutoscaler').map((o) => obj(o.object.spec));
  const maxReplicas = (kind: string, name: string) => {
    const hpa = hpas.find((h) => obj(h.scaleTargetRef).kind === kind && obj(h.scaleTargetRef).name === name);
    return typeof hpa?.maxReplicas === 'number' ? hpa.maxReplicas : undefined;
  };
  const out: Workload[] = [];
  for (const located of objects) {
    const o = located.object;
    const kind = String(o.kind);
    const name = String(obj(o.metadata).name ?? '');
    const spec = obj(o.spec);
    if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet') {
      const hpaMax = maxReplicas(kind, name);
      const replicas = hpaMax ?? (typeof spec.replicas === 'number' ? spec.replicas : 1);
      const extra = kind === 'Deployment' ? surge(spec, replicas) : 0;
      const source = hpaMax !== undefined ? `HorizontalPodAutoscaler maxReplicas ${hpaMax}` : `${replicas} replicas`;
      out.push({ located, kind, name, pod: obj(obj(spec.template).spec), pods: replicas + extra, why: extra ? `${source} + ${extra} rollout surge` : source });
    } else if (kind === 'Job' || kind === 'CronJob') {
      const jobSpec = kind === 'Job' ? spec : obj(obj(spec.jobTemplate).spec);
      const parallelism = typeof jobSpec.parallelism === 'number' ? jobSpec.parallelism : 1;
      out.push({ located, kind, name, pod: obj(obj(jobSpec.template).spec), pods: parallelism, why: `parallelism ${parallelism}` });
    } else if (kind === 'Pod') out.push({ located, kind, name, pod: spec, pods: 1, why: '1 pod' });
  }
  return out;
}

/** Requests and limits of a container after the API server's defaulting and the LimitRange's defaults. */
function effective(container: Obj, policy: NamespacePolicy): { requests: Map<string, number>; limits: Map<string, number> } {
  const res = obj(container.resources);
  const limits = quantityMap(res.limits);
  const requests = quantityMap(res.requests);
  for (const [r, v] of policy.defaults) if (!limits.has(r)) limits.set(r, v);
  for (const r of new Set([...policy.defaultRequests.keys(), ...limits.keys()])) {
    if (requests.has(r)) continue;
    const explicitLimit = quantityMap(res.limits).get(r);
    const value = explicitLimit ?? policy.defaultRequests.get(r) ?? limits.get(r);
    if (value !== undefined) requests.set(r, value);
  }
  return { requests, limits };
}

/** A pod's quota usage: the larger of its containers' sum and its biggest init container, per resource. */
function podUsage(pod: Obj, policy: NamespacePolicy, section: 'requests' | 'limits'): Map<string, number> {
  const sum = new Map<string, number>();
  for (const c of list(pod.containers)) for (const [r, v] of effective(c, policy)[section]) sum.set(r, (sum.get(r) ?? 0) + v);
  for (const c of list(pod.initContainers)) for (const [r, v] of effective(c, policy)[section]) sum.set(r, Math.max(sum.get(r) ?? 0, v));
  return sum;
}

/**
 * CHS-FIT-001: what the namespace's LimitRange and ResourceQuota (deploy/) would reject of the chart's pods at full
 * scale: every container within the LimitRange, and all pods of every workload together, at their HPA's
 * maxReplicas (else replicas) plus the Deployment's rollout surge, within the quota.
 */
export function checkAdmissionFit(namespaceObjects: LocatedObject[], rendered: LocatedObject[], namespace: string, sink: FindingSink, note?: string): void {
  const policy = namespacePolicy(namespaceObjects, namespace);
  const all = workloads(rendered);
  for (const w of all) {
    const at = { file: w.located.file, ...(w.located.line ? { line: w.located.line } : {}) };
    const where = `${w.kind} ${w.name}`;
    for (const c of [...list(w.pod.initContainers), ...list(w.pod.containers)]) {
      const { requests, limits } = effective(c, policy);
      const name = String(c.name ?? '(unnamed)');
      const problems: string[] = [];
      for (const [r, max] of policy.containerMax) {
        const limit = limits.get(r);
        if (limit === undefined) problems.push(`sets no ${r} limit, which the LimitRange maximum requires`);
        else if (limit > max) problems.push(`${r} limit ${show(r, limit)} is above the LimitRange maximum ${show(r, max)}`);
        const request = requests.get(r);
        if (request !== undefined && request > max) problems.push(`${r} request ${show(r, request)} is above the LimitRange maximum ${show(r, max)}`);
      }
      for (const [r, min] of policy.containerMin) {
        const request = requests.get(r);
        if (request === undefined || request < min) problems.push(`${r} request ${request === undefined ? 'is unset' : show(r, request)}, below the LimitRange minimum ${show(r, min)}`);
      }
      for (const [r, ratio] of policy.ratio) {
        const limit = limits.get(r);
        const request = requests.get(r);
        if (limit !== undefined && request && limit / request > ratio) problems.push(`${r} limit/request ratio ${Number((limit / request).toFixed(2))} is above the LimitRange's ${ratio}`);
      }
      for (const p of problems) sink.add({ ruleId: 'CHS-FIT-001', level: 'error', ...at, message: `${where}: container "${name}" ${p}: the namespace rejects its pods` }, note);
    }
    const podLimits = podUsage(w.pod, policy, 'limits');
    for (const [r, max] of policy.podMax) {
      const used = podLimits.get(r) ?? 0;
      if (used > max) sink.add({ ruleId: 'CHS-FIT-001', level: 'error', ...at, message: `${where}: a pod's ${r} limits add up to ${show(r, used)}, above the LimitRange Pod maximum ${show(r, max)}` }, note);
    }
  }

  // The quota holds every workload of the namespace at once.
  if (policy.quota.size === 0 || all.length === 0) return;
  const total = new Map<string, number>([['pods', 0]]);
  for (const w of all) {
    total.set('pods', total.get('pods')! + w.pods);
    for (const section of ['requests', 'limits'] as const)
      for (const [r, v] of podUsage(w.pod, policy, section)) total.set(`${section}.${r}`, (total.get(`${section}.${r}`) ?? 0) + v * w.pods);
  }
  const scale = all.map((w) => `${w.kind} ${w.name}: ${w.pods} pods (${w.why})`).join('; ');
  const first = all[0]!.located;
  const at = { file: first.file, ...(first.line ? { line: first.line } : {}) };
  for (const w of all)
    for (const section of ['requests', 'limits'] as const) {
      const usage = podUsage(w.pod, policy, section);
      const required = [...policy.quota.keys()].map((k) => (RESOURCES.includes(k) ? `requests.${k}` : k)).filter((k) => k.startsWith(`${section}.`) && RESOURCES.includes(k.slice(section.length + 1)));
      for (const key of required)
        if (!usage.has(key.slice(section.length + 1)))
          sink.add({ ruleId: 'CHS-FIT-001', level: 'error', file: w.located.file, ...(w.located.line ? { line: w.located.line } : {}), message: `${w.kind} ${w.name}: the namespace quota limits ${key}, so its pods must set it, and they do not: the namespace rejects them` }, note);
    }
  for (const [key, hard] of policy.quota) {
    const resource = RESOURCES.includes(key) ? `requests.${key}` : key;
    if (!total.has(resource)) continue;
    const used = total.get(resource) ?? 0;
    if (used > hard) {
      sink.add(
        { ruleId: 'CHS-FIT-001', level: 'error', ...at, message: `at full scale (${scale}) the pods need ${key} ${show(key, used)}, above the namespace quota ${show(key, hard)}: the quota refuses the pods beyond it` },
        note,
      );
    }
  }
}
