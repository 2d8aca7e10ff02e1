import type { DataPlaneFacts } from '../../core/versions.js';
import { extractPodSpecs } from '../policy/pod-security.js';
import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function nameOf(o: Obj): string {
  return String(obj(o.metadata).name ?? '(unnamed)');
}
function namespaceOf(o: Obj): string | undefined {
  const ns = obj(o.metadata).namespace;
  return typeof ns === 'string' ? ns : undefined;
}
function at(o: LocatedObject) {
  return { file: o.file, ...(o.line ? { line: o.line } : {}) };
}

/** Gateway API hostnames (and Ingress hosts): lowercase RFC 1123 names, `*.` for one label, never an IP. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The namespace ingress-nginx installs into: admitting it is the retired controller's default, kept by old services. */
const RETIRED_CONTROLLER_NAMESPACE = 'ingress-nginx';

/**
 * CHS-ROUTE-001: every HTTPRoute sends its traffic to a Service of the same render, on a port that Service has,
 * and names lowercase DNS hostnames. A route to a missing Service or port answers 500 for every request the
 * Gateway accepts, and nothing fails at deploy time to say so.
 */
function checkRoutes(objects: LocatedObject[], sink: FindingSink, note?: string): void {
  const services = objects.filter((o) => o.object.kind === 'Service');
  for (const route of objects.filter((o) => o.object.kind === 'HTTPRoute')) {
    const where = `HTTPRoute ${nameOf(route.object)}`;
    const spec = obj(route.object.spec);
    for (const host of Array.isArray(spec.hostnames) ? spec.hostnames : []) {
      const text = String(host);
      if (!HOSTNAME.test(text) || text.length > 253 || /^[0-9.]+$/.test(text)) {
        sink.add({ ruleId: 'CHS-ROUTE-001', level: 'error', ...at(route), message: `${where}: hostname ${JSON.stringify(text)} is not a lowercase DNS name` }, note);
      }
    }
    list(spec.rules).forEach((rule, i) => {
      list(rule.backendRefs).forEach((ref, j) => {
        const path = `rules[${i}].backendRefs[${j}]`;
        const kind = ref.kind ?? 'Service';
        if (kind !== 'Service' || (ref.group ?? '') !== '') return; // another kind of backend: not ours to judge
        const ns = typeof ref.namespace === 'string' ? ref.namespace : namespaceOf(route.object);
        const service = services.find((s) => nameOf(s.object) === ref.name && (ns === undefined || namespaceOf(s.object) === undefined || namespaceOf(s.object) === ns));
        if (!service) {
          sink.add({ ruleId: 'CHS-ROUTE-001', level: 'error', ...at(route), message: `${where}: ${path} names Service ${String(ref.name)}, which the manifests do not have` }, note);
          return;
        }
        const ports = list(obj(service.object.spec).ports).map((p) => Number(p.port));
        if (!ports.includes(Number(ref.port))) {
          sink.add(
            {
              ruleId: 'CHS-ROUTE-001',
              level: 'error',
              ...at(route),
              message: `${where}: ${path} sends to port ${String(ref.port ?? '(none)')} of Service ${String(ref.name)}, which has ${ports.length ? `only port ${ports.join(', ')}` : 'no port'}`,
            },
            note,
          );
        }
      });
    });
  }
}

/** A label selector that names something: at least one label or expression. */
function named(selector: unknown): boolean {
  const s = obj(selector);
  return Object.keys(obj(s.matchLabels)).length > 0 || list(s.matchExpressions).length > 0;
}

/** Why a NetworkPolicy peer admits more than one data plane's proxies, if it does. */
function widerThanDataPlane(peer: Obj): string | undefined {
  const cidr = obj(peer.ipBlock).cidr;
  if (typeof cidr === 'string') return /\/0$/.test(cidr) ? `admits ${cidr}: every address` : undefined;
  if (named(peer.podSelector)) return peer.namespaceSelector !== undefined && !named(peer.namespaceSelector) ? 'admits those pods in every namespace' : undefined;
  if (peer.namespaceSelector === undefined) return 'admits every pod of its namespace';
  return named(peer.namespaceSelector) ? 'admits every pod of the selected namespaces' : 'admits every pod of every namespace';
}

/** Container ports named `http` (the chart's service port) of the pods in the render. */
function servicePorts(objects: LocatedObject[]): Set<number> {
  const ports = new Set<number>();
  for (const o of objects) {
    for (const pod of extractPodSpecs(o.text)) {
      for (const c of list(pod.spec.containers)) for (const p of list(c.ports)) if (p.name === 'http') ports.add(Number(p.containerPort));
    }
  }
  return ports;
}

/**
 * CHS-NET-004: the service port admits the data plane's proxies only (pods by label, or Cilium's `ingress`
 * identity), never a whole namespace, every namespace or every address. CHS-NET-005 (warning): the retired
 * ingress-nginx namespace is still admitted, as services made before the data-plane answer did.
 */
function checkDataPlaneSources(objects: LocatedObject[], sink: FindingSink, note?: string): void {
  const ports = servicePorts(objects);
  const coversServicePort = (rulePorts: Obj[]) => rulePorts.length === 0 || rulePorts.some((p) => ports.has(Number(p.port)) || p.port === 'http');
  for (const policy of objects.filter((o) => o.object.kind === 'NetworkPolicy')) {
    list(obj(policy.object.spec).ingress).forEach((rule, i) => {
      if (!coversServicePort(list(rule.ports))) return;
      const where = `NetworkPolicy ${nameOf(policy.object)}: ingress[${i}]`;
      const from = list(rule.from);
      if (from.length === 0) {
        sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(policy), message: `${where} has no \`from\`: every source reaches the service port` }, note);
        return;
      }
      from.forEach((peer, j) => {
        const namespaceName = obj(obj(peer.namespaceSelector).matchLabels)['kubernetes.io/metadata.name'];
        if (namespaceName === RETIRED_CONTROLLER_NAMESPACE) {
          sink.add(
            {
              ruleId: 'CHS-NET-005',
              level: 'warning',
              ...at(policy),
              message: `${where}.from[${j}] admits namespace ingress-nginx, the controller retired in March 2026: point networkPolicy.dataPlane at what sends the traffic now (upgrade --data-plane <implementation>)`,
            },
            note,
          );
          return;
        }
        const wider = widerThanDataPlane(peer);
        if (wider) sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(policy), message: `${where}.from[${j}] ${wider}, wider than a data plane's proxies` }, note);
      });
    });
  }
  for (const policy of objects.filter((o) => o.object.kind === 'CiliumNetworkPolicy')) {
    list(obj(policy.object.spec).ingress).forEach((rule, i) => {
      const where = `CiliumNetworkPolicy ${nameOf(policy.object)}: ingress[${i}]`;
      const entities = Array.isArray(rule.fromEntities) ? rule.fromEntities.map(String) : [];
      const others = entities.filter((e) => e !== 'ingress');
      if (others.length) sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(policy), message: `${where} admits the entities ${others.join(', ')}: only Cilium's \`ingress\` identity is its data plane` }, note);
      if (list(rule.fromEndpoints).some((e) => !named(e))) sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(policy), message: `${where} admits every endpoint (fromEndpoints: {})` }, note);
    });
  }
}

/**
 * CHS-NET-004, for a service whose answers name its data plane: the service port must admit that implementation's
 * proxies, by the facts that do not depend on the team's Gateway (a fixed namespace, fixed labels), or Cilium's
 * identity. A policy pointed elsewhere drops every request the Gateway sends, or admits the wrong pods.
 */
function checkAnsweredDataPlane(objects: LocatedObject[], sink: FindingSink, answered: AnsweredDataPlane, note?: string): void {
  const { implementation, facts } = answered;
  const where = objects.find((o) => o.object.kind === 'NetworkPolicy') ?? objects[0];
  if (!where) return;
  if (facts.entity) {
    const admitted = objects.some((o) => o.object.kind === 'CiliumNetworkPolicy' && list(obj(o.object.spec).ingress).some((r) => Array.isArray(r.fromEntities) && r.fromEntities.includes(facts.entity)));
    if (!admitted) sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(where), message: `answered --data-plane ${implementation}, but no CiliumNetworkPolicy admits Cilium's \`${facts.entity}\` identity: the Gateway's traffic is dropped` }, note);
    return;
  }
  const fixed = (v: string) => !v.includes('{');
  const namespace = facts.namespace && fixed(facts.namespace) ? facts.namespace : undefined;
  const labels = Object.entries(facts.podLabels ?? {}).filter(([, v]) => fixed(v));
  if (!namespace && labels.length === 0) return; // every fact names the team's own Gateway
  const ports = servicePorts(objects);
  const peers = objects
    .filter((o) => o.object.kind === 'NetworkPolicy')
    .flatMap((o) => list(obj(o.object.spec).ingress))
    .filter((r) => list(r.ports).some((p) => ports.has(Number(p.port)) || p.port === 'http'))
    .flatMap((r) => list(r.from));
  const admits = peers.some((peer) => {
    const ns = obj(obj(peer.namespaceSelector).matchLabels)['kubernetes.io/metadata.name'];
    const podLabels = obj(obj(peer.podSelector).matchLabels);
    return (!namespace || ns === namespace) && labels.every(([k, v]) => podLabels[k] === v);
  });
  if (!admits) {
    const wanted = [...(namespace ? [`namespace ${namespace}`] : []), ...labels.map(([k, v]) => `${k}=${v}`)].join(', ');
    sink.add({ ruleId: 'CHS-NET-004', level: 'error', ...at(where), message: `answered --data-plane ${implementation}, but no NetworkPolicy admits its proxies (${wanted}) to the service port` }, note);
  }
}

/** The data plane a service's answers name (service mode), with its facts from data/gateway-data-planes.json. */
export interface AnsweredDataPlane {
  implementation: string;
  facts: DataPlaneFacts;
}

/** The exposure rules over one render: routes to what exists, and the service port open to the data plane only. */
export function checkExposure(objects: LocatedObject[], sink: FindingSink, note?: string, answered?: AnsweredDataPlane): void {
  checkRoutes(objects, sink, note);
  checkDataPlaneSources(objects, sink, note);
  if (answered && !answered.facts.retired) checkAnsweredDataPlane(objects, sink, answered, note);
}
