import { parseAllDocuments } from 'yaml';
import { checkPodSecurity, extractPodSpecs, podSecurityControls } from '../policy/pod-security.js';
import { type Preset, quantityToNumber } from '../preset.js';
import { DIGEST_PATTERN, splitImageRef } from './dockerfile.js';
import type { FindingSink } from './findings.js';

type Obj = Record<string, unknown>;

/** One Kubernetes object and where to report it. */
export interface LocatedObject {
  object: Obj;
  /** Text of its YAML document, for extractPodSpecs. */
  text: string;
  file: string;
  line?: number;
}

/**
 * Splits a YAML stream into documents with their first line and helm's `# Source:` comment, parsing each.
 * Throws on YAML errors with the document's line.
 */
export function splitManifests(text: string, file: string, sourceRoot?: (source: string) => string): LocatedObject[] {
  const out: LocatedObject[] = [];
  const lines = text.split('\n');
  let start = 0;
  const flush = (end: number) => {
    const chunk = lines.slice(start, end).join('\n');
    const firstLine = start + 1;
    start = end + 1;
    if (!chunk.trim()) return;
    const docs = parseAllDocuments(chunk);
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new Error(`${file}:${firstLine}: ${doc.errors[0]!.message.split('\n')[0]}`);
      const value = doc.toJS() as unknown;
      const visit = (v: unknown) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
        const o = v as Obj;
        if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
          for (const item of o.items) visit(item);
          return;
        }
        const source = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim();
        out.push({
          object: o,
          text: JSON.stringify(o),
          file: source && sourceRoot ? sourceRoot(source) : file,
          ...(source && sourceRoot ? {} : { line: firstLine }),
        });
      };
      visit(value);
    }
  };
  lines.forEach((line, i) => {
    if (/^---(\s.*)?$/.test(line)) flush(i);
  });
  flush(lines.length);
  return out;
}

export interface KubernetesRuleOptions {
  level: 'baseline' | 'restricted';
  kubeVersion: string;
  preset?: Preset;
  /** The chart's own image repository: unpinned, it is a warning (the pipeline publishes its digest). */
  ownImage?: string;
  /** Which NetworkPolicies count for CHS-NET-002: all given objects, or only those the predicate accepts. */
  ownPolicy?: (o: LocatedObject) => boolean;
  /** Appended to every finding: which values produced the render. */
  note?: string;
}

const baselineControls = new Set(podSecurityControls.filter((c) => c.level === 'baseline').map((c) => c.id));
const RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function selectorMatches(selector: Obj, labels: Record<string, unknown>): boolean {
  const matchLabels = obj(selector.matchLabels);
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const expr of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
    const e = obj(expr);
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = key in labels;
    const value = String(labels[key] ?? '');
    if (e.operator === 'In' && !(has && values.includes(value))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function policyTypes(spec: Obj): string[] {
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes.map(String);
  return ['Ingress', ...(Array.isArray(spec.egress) ? ['Egress'] : [])];
}

function namespaceOf(o: Obj): string | undefined {
  const ns = obj(o.metadata).namespace;
  return typeof ns === 'string' ? ns : undefined;
}

/** Is this NetworkPolicy the namespace's default deny: every pod, both directions, no rules? */
export function isDefaultDeny(o: Obj): boolean {
  if (o.kind !== 'NetworkPolicy') return false;
  const spec = obj(o.spec);
  const selector = obj(spec.podSelector);
  const empty = Object.keys(obj(selector.matchLabels)).length === 0 && !(Array.isArray(selector.matchExpressions) && selector.matchExpressions.length);
  const types = policyTypes(spec);
  const noRules = !(Array.isArray(spec.ingress) && spec.ingress.length) && !(Array.isArray(spec.egress) && spec.egress.length);
  return empty && types.includes('Ingress') && types.includes('Egress') && noRules;
}

/** Every destination, or every port: why an egress rule is open-ended, if it is. */
function openEgress(rule: Obj): string | undefined {
  const to = Array.isArray(rule.to) ? rule.to.map(obj) : [];
  const ports = Array.isArray(rule.ports) ? rule.ports.map(obj) : [];
  if (to.length === 0) return 'has no `to`: every destination';
  if (ports.length === 0 || ports.some((p) => p.port === undefined)) return 'leaves out ports: every port';
  for (const peer of to) {
    const cidr = obj(peer.ipBlock).cidr;
    if (typeof cidr === 'string' && /\/0$/.test(cidr)) return `allows ${cidr}: every address`;
    const named = (selector: unknown) => selector !== undefined && (Object.keys(obj(obj(selector).matchLabels)).length > 0 || (Array.isArray(obj(selector).matchExpressions) && (obj(selector).matchExpressions as unknown[]).length > 0));
    if (peer.ipBlock === undefined && !named(peer.namespaceSelector) && !named(peer.podSelector)) {
      return peer.namespaceSelector === undefined ? 'selects every pod of its namespace' : 'selects every pod of every namespace';
    }
  }
  return undefined;
}

/** The ports a pod's containers connect to on a database or Redis, from the variables the generated service reads. */
function backingPorts(containers: Obj[]): { variable: string; port: number }[] {
  const found = new Map<string, number>();
  for (const c of containers) {
    for (const e of Array.isArray(c.env) ? c.env.map(obj) : []) {
      if ((e.name === 'DB_PORT' || e.name === 'REDIS_PORT') && /^\d+$/.test(String(e.value))) found.set(String(e.name), Number(e.value));
    }
  }
  return [...found].map(([variable, port]) => ({ variable, port }));
}

/** Runs the pod, resource, image, network and preset rules over a set of objects. */
/** The ports Services send traffic to: target port names and numbers (a Service's port when it names none). */
function servicePorts(objects: LocatedObject[]): Set<string> {
  const ports = new Set<string>();
  for (const o of objects) {
    if (o.object.kind !== 'Service') continue;
    const list = obj(o.object.spec).ports;
    for (const p of Array.isArray(list) ? list.map(obj) : []) ports.add(String(p.targetPort ?? p.port));
  }
  return ports;
}

/** The container's HTTP probes whose port (by name or number) a Service exposes, described. */
function publicProbes(container: Obj, exposed: Set<string>): string[] {
  const declared = Array.isArray(container.ports) ? container.ports.map(obj) : [];
  const found: string[] = [];
  for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const port = obj(obj(container[kind]).httpGet).port;
    if (port === undefined) continue;
    const entry = declared.find((p) => p.name === port || p.containerPort === port);
    const names = [String(port), ...(entry ? [String(entry.name), String(entry.containerPort)] : [])];
    if (names.some((n) => exposed.has(n))) found.push(`${kind} asks port ${String(port)}, which a Service exposes`);
  }
  return found;
}

export function checkKubernetesObjects(objects: LocatedObject[], sink: FindingSink, options: KubernetesRuleOptions): number {
  const { note, preset } = options;
  const policies = objects.filter((o) => o.object.kind === 'NetworkPolicy' && (options.ownPolicy?.(o) ?? true));
  let workloads = 0;
  for (const policy of policies) {
    const egress = obj(policy.object.spec).egress;
    (Array.isArray(egress) ? egress.map(obj) : []).forEach((rule, i) => {
      const open = openEgress(rule);
      if (!open) return;
      const at = { file: policy.file, ...(policy.line ? { line: policy.line } : {}) };
      sink.add({ ruleId: 'CHS-NET-003', level: 'error', ...at, message: `NetworkPolicy ${String(obj(policy.object.metadata).name ?? '(unnamed)')}: egress[${i}] ${open}` }, note);
    });
  }
  const exposed = servicePorts(objects);
  const maxMemory = preset?.constraints.maxMemoryLimit;
  const registries = preset?.constraints.allowedRegistries;

  for (const located of objects) {
    const pods = extractPodSpecs(located.text);
    for (const pod of pods) {
      workloads++;
      const where = `${pod.kind} ${pod.name || '(unnamed)'}`;
      const at = { file: located.file, ...(located.line ? { line: located.line } : {}) };
      // Pod Security Standards: what baseline rejects is CHS-PSS-001; what restricted adds is CHS-PSS-002.
      // (At restricted PSA reports some baseline problems under a stricter control, e.g. hostPath under
      // restrictedVolumes: a field already reported by baseline is not reported twice.)
      const baselineFindings = checkPodSecurity(pod.object, 'baseline', options.kubeVersion);
      for (const f of baselineFindings) {
        sink.add({ ruleId: 'CHS-PSS-001', level: 'error', ...at, message: `${where}: ${f.message} (${f.control} at ${f.path})` }, note);
      }
      if (options.level === 'restricted') {
        const seen = new Set(baselineFindings.map((f) => f.path));
        for (const f of checkPodSecurity(pod.object, 'restricted', options.kubeVersion)) {
          if (baselineControls.has(f.control) || seen.has(f.path) || [...seen].some((p) => p.startsWith(`${f.path}.`) || f.path.startsWith(`${p}.`))) continue;
          sink.add({ ruleId: 'CHS-PSS-002', level: 'error', ...at, message: `${where}: ${f.message} (${f.control} at ${f.path})` }, note);
        }
      }

      const containers = ['initContainers', 'containers'].flatMap((k) =>
        (Array.isArray(pod.spec[k]) ? (pod.spec[k] as unknown[]) : []).map((c) => ({ c: obj(c), kind: k })),
      );
      for (const { c } of containers) {
        const name = typeof c.name === 'string' ? c.name : '(unnamed)';
        for (const probe of publicProbes(c, exposed)) {
          sink.add({ ruleId: 'CHS-PROBE-001', level: 'error', ...at, message: `${where}: container "${name}" ${probe}` }, note);
        }
        const resources = obj(c.resources);
        const missing: string[] = [];
        for (const section of ['requests', 'limits']) {
          for (const r of RESOURCES) if (obj(resources[section])[r] === undefined || obj(resources[section])[r] === null) missing.push(`${section}.${r}`);
        }
        if (missing.length) {
          sink.add({ ruleId: 'CHS-RES-001', level: 'error', ...at, message: `${where}: container "${name}" sets no ${missing.join(', ')}` }, note);
        }

        const image = typeof c.image === 'string' ? c.image : '';
        const ref = splitImageRef(image);
        if (!ref.digest || !DIGEST_PATTERN.test(ref.digest)) {
          const own = options.ownImage !== undefined && ref.name === options.ownImage;
          sink.add(
            {
              ruleId: 'CHS-IMG-002',
              level: own ? 'warning' : 'error',
              ...at,
              message: own
                ? `${where}: container "${name}" runs the chart's own image ${image || '(none)'} by tag: deploy with --set image.digest=sha256:…`
                : `${where}: container "${name}" image ${image || '(none)'} is not pinned by digest`,
            },
            note,
          );
        }
        if (registries && !registries.some((p) => image.startsWith(p))) {
          sink.add({ ruleId: 'CHS-PRE-002', level: 'error', ...at, message: `${where}: container "${name}" image ${image} is not from an allowed registry (${registries.join(', ')})` }, note);
        }
        if (maxMemory) {
          const limit = obj(resources.limits).memory;
          const bytes = quantityToNumber(limit);
          if (bytes !== undefined && bytes > quantityToNumber(maxMemory)!) {
            sink.add({ ruleId: 'CHS-PRE-004', level: 'error', ...at, message: `${where}: container "${name}" memory limit ${String(limit)} is above the preset ceiling ${maxMemory}` }, note);
          } else if (bytes === undefined) {
            sink.add({ ruleId: 'CHS-PRE-004', level: 'error', ...at, message: `${where}: container "${name}" has no memory limit, so the preset ceiling ${maxMemory} cannot hold` }, note);
          }
        }
      }

      // Network: some policy limiting both directions selects the pod template's labels.
      const labels = obj(pod.metadata.labels);
      const ns = namespaceOf(pod.object);
      const covered = policies.some((p) => {
        const pns = namespaceOf(p.object);
        if (ns && pns && ns !== pns) return false;
        const spec = obj(p.object.spec);
        const types = policyTypes(spec);
        return types.includes('Ingress') && types.includes('Egress') && selectorMatches(obj(spec.podSelector), labels);
      });
      if (!covered) {
        sink.add({ ruleId: 'CHS-NET-002', level: 'error', ...at, message: `${where}: no NetworkPolicy limiting ingress and egress selects its pods (labels ${JSON.stringify(labels)})` }, note);
      }
      // A database or Redis: some policy selecting the pods allows exactly its port, to named peers.
      const egressRules = policies
        .filter((p) => !(ns && namespaceOf(p.object) && ns !== namespaceOf(p.object)) && policyTypes(obj(p.object.spec)).includes('Egress') && selectorMatches(obj(obj(p.object.spec).podSelector), labels))
        .flatMap((p) => (Array.isArray(obj(p.object.spec).egress) ? (obj(p.object.spec).egress as unknown[]).map(obj) : []));
      for (const { variable, port } of backingPorts(containers.map(({ c }) => c))) {
        const exact = egressRules.some((rule) => {
          const ports = Array.isArray(rule.ports) ? rule.ports.map(obj) : [];
          return ports.length === 1 && Number(ports[0]!.port) === port && (ports[0]!.protocol ?? 'TCP') === 'TCP' && !openEgress(rule);
        });
        if (!exact) {
          sink.add({ ruleId: 'CHS-NET-003', level: 'error', ...at, message: `${where}: connects to ${variable}=${port}, but no egress rule of a NetworkPolicy selecting its pods allows exactly that port to named peers` }, note);
        }
      }
    }
  }
  return workloads;
}
