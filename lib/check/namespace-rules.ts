import { supportedKubernetesMinors } from './kubernetes-api.js';
import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';
import { parseQuantity } from './quantity.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function meta(o: LocatedObject): Obj {
  return obj(o.object.metadata);
}
function at(o: LocatedObject | undefined, fallback: string) {
  return o ? { file: o.file, ...(o.line ? { line: o.line } : {}) } : { file: fallback };
}

const PSS_MODES = ['enforce', 'audit', 'warn'] as const;

/**
 * CHS-NS-001: the Namespace enforces, audits and warns at `restricted`, each pinned to a supported minor, so
 * that neither a looser label nor a cluster upgrade (`latest`) changes what is admitted unseen.
 */
export function checkNamespaceLabels(namespace: LocatedObject, sink: FindingSink): void {
  const labels = obj(meta(namespace).labels);
  const name = String(meta(namespace).name ?? '');
  const pinned = supportedKubernetesMinors.map((m) => `v${m}`);
  for (const mode of PSS_MODES) {
    const key = `pod-security.kubernetes.io/${mode}`;
    const level = labels[key];
    if (level !== 'restricted') {
      const what = level === undefined ? 'is missing' : `is ${JSON.stringify(level)}`;
      sink.add({ ruleId: 'CHS-NS-001', level: 'error', ...at(namespace, ''), message: `Namespace ${name}: label ${key} ${what}, must be restricted` });
    }
    const version = labels[`${key}-version`];
    if (typeof version !== 'string' || !pinned.includes(version)) {
      const what = version === undefined ? 'is missing (PSA then applies latest, which moves with the cluster)' : `is ${JSON.stringify(version)}`;
      sink.add({
        ruleId: 'CHS-NS-001',
        level: 'error',
        ...at(namespace, ''),
        message: `Namespace ${name}: label ${key}-version ${what}, must pin a supported minor (${pinned.join(', ')})`,
      });
    }
  }
}

function inNamespace(objects: LocatedObject[], kind: string, namespace: string): LocatedObject[] {
  return objects.filter((o) => o.object.kind === kind && meta(o).namespace === namespace);
}

/** The tightest value of each key over several objects (Kubernetes enforces every ResourceQuota/LimitRange). */
function tightest(maps: Obj[]): Map<string, { value: unknown; n: number }> {
  const out = new Map<string, { value: unknown; n: number }>();
  for (const m of maps)
    for (const [key, value] of Object.entries(m)) {
      const n = parseQuantity(value);
      if (n === undefined) continue;
      const seen = out.get(key);
      if (!seen || n < seen.n) out.set(key, { value, n });
    }
  return out;
}

/** Keys of `reference` that `actual` lacks or sets higher: what makes `actual` weaker. */
function looser(actual: Map<string, { value: unknown; n: number }>, reference: Obj): string[] {
  const problems: string[] = [];
  for (const [key, refValue] of Object.entries(reference)) {
    const ref = parseQuantity(refValue);
    if (ref === undefined) continue;
    const mine = actual.get(key);
    if (!mine) problems.push(`${key} is not limited (generator: ${String(refValue)})`);
    else if (mine.n > ref) problems.push(`${key} ${String(mine.value)} is above the generator's ${String(refValue)}`);
  }
  return problems;
}

const SERVICE_TYPE_KEYS: Record<string, string> = { 'services.nodeports': 'NodePort', 'services.loadbalancers': 'LoadBalancer' };

/**
 * CHS-NS-002: a ResourceQuota in the namespace no weaker than the generator's: every key the generator limits is
 * limited at most as high, so NodePort and LoadBalancer Services stay forbidden (count 0).
 */
export function checkResourceQuota(objects: LocatedObject[], reference: LocatedObject[], namespace: string, sink: FindingSink, fallbackFile: string): void {
  const quotas = inNamespace(objects, 'ResourceQuota', namespace);
  const refHard = Object.assign({}, ...reference.filter((o) => o.object.kind === 'ResourceQuota').map((o) => obj(obj(o.object.spec).hard))) as Obj;
  if (quotas.length === 0) {
    sink.add({ ruleId: 'CHS-NS-002', level: 'error', file: fallbackFile, message: `no ResourceQuota in namespace ${namespace}: nothing caps what its pods consume or forbids NodePort/LoadBalancer Services` });
    return;
  }
  const hard = tightest(quotas.map((q) => obj(obj(q.object.spec).hard)));
  for (const problem of looser(hard, refHard)) {
    const key = problem.split(' ')[0]!;
    const serviceType = SERVICE_TYPE_KEYS[key];
    const message = serviceType ? `${problem}: the namespace then admits ${serviceType} Services, which expose the service outside the cluster` : problem;
    sink.add({ ruleId: 'CHS-NS-002', level: 'error', ...at(quotas[0], fallbackFile), message: `ResourceQuota in ${namespace}: ${message}` });
  }
}

/**
 * CHS-NS-003: a LimitRange in the namespace that gives every container default requests and limits and caps
 * them at no more than the generator's maximums.
 */
export function checkLimitRange(objects: LocatedObject[], reference: LocatedObject[], namespace: string, sink: FindingSink, fallbackFile: string): void {
  const ranges = inNamespace(objects, 'LimitRange', namespace);
  const containerLimits = (list: LocatedObject[]) =>
    list.flatMap((o) => (Array.isArray(obj(o.object.spec).limits) ? (obj(o.object.spec).limits as unknown[]) : [])).map(obj).filter((l) => l.type === 'Container');
  const ref = containerLimits(reference.filter((o) => o.object.kind === 'LimitRange'));
  if (ranges.length === 0) {
    sink.add({ ruleId: 'CHS-NS-003', level: 'error', file: fallbackFile, message: `no LimitRange in namespace ${namespace}: containers without resources run unbounded` });
    return;
  }
  const mine = containerLimits(ranges);
  const where = at(ranges[0], fallbackFile);
  for (const section of ['default', 'defaultRequest'] as const) {
    const have = new Set(mine.flatMap((l) => Object.keys(obj(l[section]))));
    const missing = [...new Set(ref.flatMap((l) => Object.keys(obj(l[section]))))].filter((r) => !have.has(r));
    if (missing.length) sink.add({ ruleId: 'CHS-NS-003', level: 'error', ...where, message: `LimitRange in ${namespace}: no Container ${section} for ${missing.join(', ')}` });
  }
  const max = tightest(mine.map((l) => obj(l.max)));
  for (const problem of looser(max, Object.assign({}, ...ref.map((l) => obj(l.max))) as Obj)) {
    sink.add({ ruleId: 'CHS-NS-003', level: 'error', ...where, message: `LimitRange in ${namespace}: Container max ${problem}` });
  }
}
