import { extractPodSpecs, type ExtractedPodSpec } from '../policy/pod-security.js';
import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';

/**
 * CHS-FLOOR-001, "no weaker than generated": what the generator renders for the service's own answers is the floor
 * its chart is held to. The floor is read from the fresh render, not listed here: every securityContext field and
 * every boolean of every pod the generator renders, each probe and limit of its containers, the Service types it
 * uses, the openness of its NetworkPolicy peers and ports, TLS on its Ingress hosts, its RBAC objects, and every
 * object it renders for the same values. A field a template adds tomorrow joins the floor with it; what this module
 * knows is only which way is stricter for the fields where that is not "the same value".
 */

type Obj = Record<string, unknown>;

/** The stricter value of fields where the generator's value is not the only acceptable one. */
const STRICT: Record<string, boolean> = {
  automountServiceAccountToken: false,
  hostNetwork: false,
  hostPID: false,
  hostIPC: false,
  hostUsers: false,
  shareProcessNamespace: false,
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
};

/** Kubernetes' value when a boolean is left out (what an unset field means for the pod). */
const DEFAULT: Record<string, boolean> = { automountServiceAccountToken: true, hostUsers: true };

/** How exposed a Service type is, from inside the cluster (0) to the internet (2). */
const EXPOSURE: Record<string, number> = { ClusterIP: 0, ExternalName: 1, NodePort: 1, LoadBalancer: 2 };

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
const identity = (o: Obj) => `${String(o.kind)} ${String(obj(o.metadata).name ?? '(unnamed)')}`;

/** Leaves of a securityContext (lists whole), by dotted path. */
function leaves(value: unknown, prefix: string, out = new Map<string, unknown>()): Map<string, unknown> {
  const o = obj(value);
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) leaves(v, path, out);
    else out.set(path, v);
  }
  return out;
}

/** Is `actual` at least as strict as `floor` for the field at `path`? */
function holds(path: string, floor: unknown, actual: unknown): boolean {
  const field = path.slice(path.lastIndexOf('.') + 1);
  if (typeof floor === 'boolean' && field in STRICT) {
    const effective = actual ?? DEFAULT[field] ?? !STRICT[field];
    return floor !== STRICT[field] || effective === STRICT[field];
  }
  if (Array.isArray(floor)) {
    const have = new Set(list(actual).map((v) => JSON.stringify(v).toUpperCase()));
    const want = floor.map((v) => JSON.stringify(v).toUpperCase());
    // Added capabilities may only shrink; every other list (dropped capabilities...) may only grow.
    if (field === 'add') return [...have].every((v) => want.includes(v));
    return want.every((v) => have.has(v));
  }
  return JSON.stringify(floor) === JSON.stringify(actual);
}

/** The security facts of one container (effective securityContext, probes, limits) or of a pod. */
function containerFacts(container: Obj, pod: Obj): Map<string, unknown> {
  const facts = new Map<string, unknown>();
  const podContext = leaves(pod.securityContext, 'securityContext');
  for (const [path, value] of leaves(container.securityContext, 'securityContext')) facts.set(path, value);
  // A container inherits the pod's setting for the fields both levels have.
  for (const [path, value] of podContext) if (!facts.has(path) && !/fsGroup|supplementalGroups|sysctls/.test(path)) facts.set(path, value);
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) facts.set(probe, container[probe] === undefined ? undefined : 'set');
  for (const resource of Object.keys(obj(obj(container.resources).limits))) facts.set(`resources.limits.${resource}`, 'set');
  return facts;
}

function podFacts(pod: ExtractedPodSpec): Map<string, unknown> {
  const facts = leaves(pod.spec.securityContext, 'securityContext');
  for (const [k, v] of Object.entries(pod.spec)) if (typeof v === 'boolean') facts.set(k, v);
  return facts;
}

function containersOf(pod: ExtractedPodSpec): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const key of ['initContainers', 'containers']) for (const c of list(pod.spec[key]).map(obj)) out.set(`${key === 'containers' ? 'container' : 'init container'} "${String(c.name)}"`, c);
  return out;
}

/** Facts every floor item shares (same value): what a workload or container the generator does not render is held to. */
function common(facts: Map<string, unknown>[]): Map<string, unknown> {
  const [first, ...rest] = facts;
  const out = new Map<string, unknown>();
  for (const [k, v] of first ?? []) if (rest.every((f) => f.has(k) && JSON.stringify(f.get(k)) === JSON.stringify(v))) out.set(k, v);
  return out;
}

interface Report {
  (located: LocatedObject, message: string): void;
}

/** What the generator leaves unset still has a floor where one way is stricter: Kubernetes' default, no added capability. */
function implicitFloor(path: string): { value: unknown } | undefined {
  const field = path.slice(path.lastIndexOf('.') + 1);
  if (field === 'add') return { value: [] };
  if (field in STRICT) return { value: DEFAULT[field] ?? !STRICT[field] };
  return undefined;
}

function compare(given: Map<string, unknown>, actual: Map<string, unknown>, subject: string, located: LocatedObject, report: Report): void {
  const floor = new Map(given);
  for (const path of actual.keys()) {
    const implicit = floor.has(path) ? undefined : implicitFloor(path);
    if (implicit) floor.set(path, implicit.value);
  }
  for (const [path, value] of floor) {
    const have = actual.get(path);
    if (holds(path, value, have)) continue;
    report(located, `${subject}: ${path} is ${show(have)}; the generator renders ${show(value)}`);
  }
}

function workloads(objects: LocatedObject[]): { located: LocatedObject; pod: ExtractedPodSpec }[] {
  return objects.flatMap((located) => extractPodSpecs(located.text).map((pod) => ({ located, pod })));
}

function checkWorkloads(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  const floorPods = workloads(floor);
  if (floorPods.length === 0) return;
  const byName = new Map(floorPods.map((w) => [`${w.pod.kind}/${w.pod.name}`, w.pod]));
  const commonPod = common(floorPods.map((w) => podFacts(w.pod)));
  const commonContainer = common(floorPods.flatMap((w) => [...containersOf(w.pod).values()].map((c) => containerFacts(c, w.pod.spec))));
  for (const { located, pod } of workloads(service)) {
    const match = byName.get(`${pod.kind}/${pod.name}`);
    const subject = `${pod.kind} ${pod.name || '(unnamed)'}`;
    compare(match ? podFacts(match) : commonPod, podFacts(pod), subject, located, report);
    const floorContainers = match ? containersOf(match) : new Map<string, Obj>();
    for (const [name, container] of containersOf(pod)) {
      const mine = floorContainers.get(name);
      compare(mine ? containerFacts(mine, match!.spec) : commonContainer, containerFacts(container, pod.spec), `${subject} ${name}`, located, report);
    }
  }
}

/** Why a NetworkPolicy rule lets anything in (or out), if it does. */
function openRule(rule: Obj, direction: 'from' | 'to'): string | undefined {
  const peers = list(rule[direction]).map(obj);
  if (peers.length === 0) return `no \`${direction}\`: every peer`;
  const ports = list(rule.ports).map(obj);
  if (ports.length === 0 || ports.some((p) => p.port === undefined)) return 'no ports: every port';
  const named = (selector: unknown) => Object.keys(obj(obj(selector).matchLabels)).length > 0 || list(obj(selector).matchExpressions).length > 0;
  for (const peer of peers) {
    const cidr = obj(peer.ipBlock).cidr;
    if (typeof cidr === 'string' && Number(cidr.split('/')[1]) < 8) return `${direction} ${cidr}: every address`;
    if (peer.ipBlock === undefined && !named(peer.namespaceSelector) && !named(peer.podSelector)) return `${direction} every pod of ${peer.namespaceSelector === undefined ? 'its namespace' : 'every namespace'}`;
  }
  return undefined;
}

function checkNetworkPolicies(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  const policies = (objects: LocatedObject[]) => objects.filter((o) => o.object.kind === 'NetworkPolicy');
  const floorPolicies = policies(floor);
  if (floorPolicies.length === 0) return;
  for (const [field, direction] of [['ingress', 'from'], ['egress', 'to']] as const) {
    const floorOpen = floorPolicies.some((p) => list(obj(p.object.spec)[field]).some((r) => openRule(obj(r), direction)));
    if (floorOpen) continue;
    for (const p of policies(service)) {
      list(obj(p.object.spec)[field]).forEach((r, i) => {
        const open = openRule(obj(r), direction);
        if (open) report(p, `${identity(p.object)}: ${field}[${i}] allows ${open}; every ${field} rule the generator renders names its peers and ports`);
      });
    }
  }
  for (const p of policies(service)) {
    const mine = floorPolicies.find((f) => identity(f.object) === identity(p.object));
    const types = list(obj(p.object.spec).policyTypes);
    for (const t of mine ? list(obj(mine.object.spec).policyTypes) : []) {
      if (!types.includes(t)) report(p, `${identity(p.object)}: policyTypes leaves out ${String(t)}; the generator renders it`);
    }
  }
}

function checkServices(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  const floorServices = floor.filter((o) => o.object.kind === 'Service');
  if (floorServices.length === 0) return;
  const type = (o: Obj) => String(obj(o.spec).type ?? 'ClusterIP');
  const widest = Math.max(...floorServices.map((s) => EXPOSURE[type(s.object)] ?? 0));
  const floorTypes = [...new Set(floorServices.map((s) => type(s.object)))].join(', ');
  const externalIPs = floorServices.some((s) => list(obj(s.object.spec).externalIPs).length > 0);
  for (const s of service.filter((o) => o.object.kind === 'Service')) {
    if ((EXPOSURE[type(s.object)] ?? 2) > widest) report(s, `${identity(s.object)}: spec.type is ${type(s.object)}; the generator renders ${floorTypes} only`);
    if (!externalIPs && list(obj(s.object.spec).externalIPs).length > 0) report(s, `${identity(s.object)}: spec.externalIPs is set; the generator renders none`);
  }
}

/** Hosts of an Ingress no TLS entry covers ("*.example.com" covers one label). */
function hostsWithoutTls(o: Obj): string[] {
  const tls = list(obj(o.spec).tls).flatMap((t) => list(obj(t).hosts).map(String));
  const covered = (host: string) => tls.some((t) => t === host || (t.startsWith('*.') && host.slice(host.indexOf('.')) === t.slice(1)));
  const hosts = list(obj(o.spec).rules).map((r) => String(obj(r).host ?? '*'));
  return hosts.filter((h) => !covered(h));
}

function checkIngresses(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  // Every Ingress the generator renders covers each host with TLS; when it renders none, its chart refuses one without.
  if (floor.some((o) => o.object.kind === 'Ingress' && hostsWithoutTls(o.object).length > 0)) return;
  for (const i of service.filter((o) => o.object.kind === 'Ingress')) {
    const bare = hostsWithoutTls(i.object);
    if (bare.length) report(i, `${identity(i.object)}: spec.tls does not cover ${bare.join(', ')}; the generator serves every host over TLS`);
  }
}

/** Gateway API routes: what they expose depends on the Gateway's listeners (TLS or not), outside the chart. */
const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);

function checkRoutes(service: LocatedObject[], sameValues: LocatedObject[], report: Report): void {
  const generated = new Set(sameValues.map((o) => identity(o.object)));
  for (const r of service.filter((o) => ROUTE_KINDS.has(String(o.object.kind)) && !generated.has(identity(o.object)))) {
    report(r, `${identity(r.object)}: the generator renders no such route for these values: an exposure it does not hold to TLS and its NetworkPolicy sources`);
  }
}

function checkRbac(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  for (const r of service.filter((o) => RBAC_KINDS.has(String(o.object.kind)))) {
    const mine = floor.find((f) => identity(f.object) === identity(r.object));
    if (!mine) {
      const ref = obj(r.object.roleRef);
      const grants = ref.name ? ` granting ${String(ref.kind)} ${String(ref.name)}` : '';
      report(r, `${identity(r.object)}${grants}: the generator renders no such RBAC object for these values (its scope is a Role of values rbac.rules, in the namespace)`);
      continue;
    }
    const allowed = new Set(list(mine.object.rules).map((x) => JSON.stringify(x)));
    for (const rule of list(r.object.rules)) if (!allowed.has(JSON.stringify(rule))) report(r, `${identity(r.object)}: rule ${JSON.stringify(rule)} is not one the generator renders`);
    if (JSON.stringify(r.object.roleRef) !== JSON.stringify(mine.object.roleRef)) report(r, `${identity(r.object)}: roleRef is ${show(r.object.roleRef)}; the generator renders ${show(mine.object.roleRef)}`);
    const subjects = new Set(list(mine.object.subjects).map((x) => JSON.stringify(x)));
    for (const s of list(r.object.subjects)) if (!subjects.has(JSON.stringify(s))) report(r, `${identity(r.object)}: subject ${JSON.stringify(s)} is not one the generator renders`);
  }
}

/** Booleans of non-workload objects the generator sets (a ServiceAccount's automountServiceAccountToken). */
function checkObjectFlags(service: LocatedObject[], floor: LocatedObject[], report: Report): void {
  for (const f of floor) {
    const s = service.find((o) => identity(o.object) === identity(f.object));
    if (!s) continue;
    for (const [k, v] of Object.entries(f.object)) {
      if (typeof v === 'boolean' && !holds(k, v, s.object[k])) report(s, `${identity(s.object)}: ${k} is ${show(s.object[k])}; the generator renders ${show(v)}`);
    }
  }
}

export interface FloorRenders {
  /** The generator's chart with its own values: the floor for every value-level property. */
  defaults: LocatedObject[];
  /** The generator's chart with the service's values: which objects these values call for. */
  sameValues?: LocatedObject[];
}

/** Holds the service's rendered objects to what the generator renders for its answers (CHS-FLOOR-001). */
export function checkGeneratedFloor(service: LocatedObject[], floors: FloorRenders, sink: FindingSink, note?: string): void {
  const report: Report = (located, message) =>
    sink.add({ ruleId: 'CHS-FLOOR-001', level: 'error', file: located.file, ...(located.line ? { line: located.line } : {}), message }, note);
  const floorSets = [floors.defaults, ...(floors.sameValues ? [floors.sameValues] : [])];
  const both = [...floors.defaults, ...(floors.sameValues ?? [])];
  for (const floor of floorSets) {
    checkWorkloads(service, floor, report);
    checkNetworkPolicies(service, floor, report);
    checkServices(service, floor, report);
    checkObjectFlags(service, floor, report);
  }
  checkIngresses(service, both, report);
  checkRbac(service, both, report);
  if (floors.sameValues) checkRoutes(service, floors.sameValues, report);
  // Every object the generator renders for these values is there (a NetworkPolicy, a PodDisruptionBudget...).
  const have = new Set(service.map((o) => identity(o.object)));
  for (const f of floors.sameValues ?? []) {
    if (!have.has(identity(f.object))) report(f, `${identity(f.object)} is missing; the generator renders it for these values`);
  }
}
