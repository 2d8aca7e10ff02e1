import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';
import { schemaValidator, type SchemaError } from './openapi-schemas.js';
import { isQuantity } from './quantity.js';

type Obj = Record<string, unknown>;

interface ApiChange {
  apiVersion: string;
  kinds: string[];
  removedIn?: string;
  deprecatedIn?: string;
  use: string;
}
interface ApiFacts {
  removedApis: { apis: ApiChange[] };
  deprecatedApis: { apis: ApiChange[] };
  names: { dns1123Label: string[]; dns1035Label: string[]; pathSegment: string[]; maxLength: Record<string, number> };
}
const facts: ApiFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'kubernetes-api.json'), 'utf8'));

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function minorNumber(minor: string): number {
  return Number(minor.split('.')[1]);
}

// ---- CHS-SCHEMA-001: the OpenAPI schema, unknown fields rejected ----

interface Reads {
  keys: Set<string>;
  /** The validator enumerated the object's keys (a map: every key is allowed). */
  all: boolean;
  proxy?: object;
}

/** Wraps `value` so that every property the validator reads is recorded: what it never reads, the schema does not know. */
function tracked(value: unknown, reads: Map<object, Reads>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  let r = reads.get(value);
  if (!r) reads.set(value, (r = { keys: new Set(), all: false }));
  const record = r;
  record.proxy ??= new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === 'string') record.keys.add(key);
      return tracked(Reflect.get(target, key, receiver), reads);
    },
    has(target, key) {
      if (typeof key === 'string') record.keys.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.all = true;
      return Reflect.ownKeys(target);
    },
  });
  return record.proxy;
}

/**
 * Keys the schema does not declare (what `kubeconform -strict` rejects). An object whose validator read none of
 * its keys has no declared properties (free-form, e.g. x-kubernetes-preserve-unknown-fields): anything goes there.
 */
function unknownFields(value: unknown, reads: Map<object, Reads>, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, reads, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const r = reads.get(value);
  if (!r || (!r.all && r.keys.size === 0)) return;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!r.all && !r.keys.has(key)) out.push(at);
    else unknownFields(child, reads, at, out);
  }
}

/** `/spec/containers/0/image` → `spec.containers[0].image` */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function describeError(e: SchemaError): string {
  if (e.keyword === 'required') return `must have required property ${String(e.params.missingProperty)}`;
  if (e.keyword === 'enum') return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return e.message ?? e.keyword;
}

// ---- CHS-SCHEMA-003: names, labels, annotations, quantities ----

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const TOTAL_ANNOTATION_SIZE = 256 * 1024;

function nameProblem(kind: string, name: string): string | undefined {
  const max = facts.names.maxLength[kind];
  if (max !== undefined && name.length > max) return `must be at most ${max} characters`;
  if (facts.names.dns1123Label.includes(kind))
    return name.length <= 63 && DNS1123_LABEL.test(name) ? undefined : 'must be a DNS-1123 label (lowercase letters, digits and -, at most 63 characters)';
  if (facts.names.dns1035Label.includes(kind))
    return name.length <= 63 && DNS1035_LABEL.test(name) ? undefined : 'must be a DNS-1035 label (a lowercase letter first, then lowercase letters, digits and -, at most 63 characters)';
  if (facts.names.pathSegment.includes(kind))
    return name !== '.' && name !== '..' && !/[/%]/.test(name) ? undefined : 'must not be "." or ".." or contain / or %';
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name) ? undefined : 'must be a DNS-1123 subdomain (lowercase letters, digits, - and ., at most 253 characters)';
}

/** Label keys and annotation keys: an optional DNS-1123 subdomain prefix and /, then a name of at most 63 characters. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'has more than one /';
  const name = parts.at(-1)!;
  if (parts.length === 2 && !(parts[0]!.length > 0 && parts[0]!.length <= 253 && DNS1123_SUBDOMAIN.test(parts[0]!))) return 'prefix must be a DNS-1123 subdomain';
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return 'name must be 1-63 characters of letters, digits, -, _ and ., beginning and ending with a letter or digit';
  return undefined;
}

function metadataProblems(meta: Obj, path: string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(obj(meta.labels))) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) problems.push(`${path}.labels: key "${key}" ${keyProblem}`);
    const v = String(value ?? '');
    if (v.length > 63 || (v !== '' && !LABEL_NAME.test(v))) problems.push(`${path}.labels["${key}"]: value "${v}" must be at most 63 characters of letters, digits, -, _ and ., beginning and ending with a letter or digit`);
  }
  let size = 0;
  for (const [key, value] of Object.entries(obj(meta.annotations))) {
    const keyProblem = qualifiedNameProblem(key.toLowerCase());
    if (keyProblem) problems.push(`${path}.annotations: key "${key}" ${keyProblem}`);
    size += key.length + String(value ?? '').length;
  }
  if (size > TOTAL_ANNOTATION_SIZE) problems.push(`${path}.annotations: ${size} bytes in total, above the 256 KiB limit`);
  return problems;
}

/** Pod template metadata inside workloads, where labels and annotations are validated too. */
function templateMetadata(object: Obj): [Obj, string][] {
  const out: [Obj, string][] = [];
  const visit = (value: unknown, path: string) => {
    const o = obj(value);
    for (const [key, child] of Object.entries(o)) {
      const at = path ? `${path}.${key}` : key;
      if ((key === 'template' || key === 'jobTemplate') && typeof child === 'object' && child !== null) {
        out.push([obj(obj(child).metadata), `${at}.metadata`]);
      }
      if (key !== 'metadata' && typeof child === 'object' && child !== null && !Array.isArray(child)) visit(child, at);
    }
  };
  visit(object.spec, 'spec');
  return out;
}

/** Quantities by where the API has them: resources, overhead, sizeLimit, quota and LimitRange maps. */
function quantityProblems(object: Obj): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const checkMap = (map: unknown, path: string) => {
    for (const [key, value] of Object.entries(obj(map))) {
      if (!isQuantity(value)) problems.push({ path: `${path}.${key}`, message: `${path}.${key}: ${JSON.stringify(value)} is not a Kubernetes quantity (e.g. 500m, 1, 128Mi, 1Gi)` });
    }
  };
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value as Obj)) {
      const at = path ? `${path}.${key}` : key;
      if (key === 'resources' && !Array.isArray(child)) {
        checkMap(obj(child).requests, `${at}.requests`);
        checkMap(obj(child).limits, `${at}.limits`);
      } else if (key === 'overhead') checkMap(child, at);
      else if (key === 'sizeLimit' && !isQuantity(child)) problems.push({ path: at, message: `${at}: ${JSON.stringify(child)} is not a Kubernetes quantity` });
      visit(child, at);
    }
  };
  const spec = obj(object.spec);
  if (object.kind === 'ResourceQuota') checkMap(spec.hard, 'spec.hard');
  else if (object.kind === 'LimitRange')
    (Array.isArray(spec.limits) ? spec.limits : []).forEach((limit, i) => {
      for (const section of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) checkMap(obj(limit)[section], `spec.limits[${i}].${section}`);
    });
  else visit(spec, 'spec');
  return problems;
}

export interface SchemaRuleOptions {
  /** Target minor, `1.35`. */
  kubeVersion: string;
  note?: string;
}

/** CHS-SCHEMA-001..003 over a set of rendered objects. */
export function checkSchemas(objects: LocatedObject[], sink: FindingSink, options: SchemaRuleOptions): void {
  const minor = minorNumber(options.kubeVersion);
  for (const located of objects) {
    const o = located.object;
    const at = { file: located.file, ...(located.line ? { line: located.line } : {}) };
    const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const meta = obj(o.metadata);
    const name = typeof meta.name === 'string' ? meta.name : '';
    const what = `${kind || '(no kind)'} ${name || '(unnamed)'}`;
    const add = (ruleId: 'CHS-SCHEMA-001' | 'CHS-SCHEMA-002' | 'CHS-SCHEMA-003', message: string, level: 'error' | 'warning' = 'error') =>
      sink.add({ ruleId, level, ...at, message: `${what}: ${message}` }, options.note);

    if (!apiVersion || !kind) {
      add('CHS-SCHEMA-001', 'every object needs apiVersion and kind');
      continue;
    }
    // CHS-SCHEMA-002: API versions the target minor no longer serves, or warns about.
    const removed = facts.removedApis.apis.find((a) => a.apiVersion === apiVersion && a.kinds.includes(kind) && minorNumber(a.removedIn!) <= minor);
    if (removed) {
      add('CHS-SCHEMA-002', `${apiVersion} ${kind} is not served since Kubernetes ${removed.removedIn} (target ${options.kubeVersion}): use ${removed.use}`);
      continue;
    }
    const deprecated = facts.deprecatedApis.apis.find((a) => a.apiVersion === apiVersion && a.kinds.includes(kind) && minorNumber(a.deprecatedIn!) <= minor);
    if (deprecated) add('CHS-SCHEMA-002', `${apiVersion} ${kind} is deprecated since Kubernetes ${deprecated.deprecatedIn}: use ${deprecated.use}`, 'warning');

    // CHS-SCHEMA-003: names, labels, annotations, quantities.
    if (!name && typeof meta.generateName !== 'string') add('CHS-SCHEMA-003', 'metadata.name is missing');
    else if (name) {
      const problem = nameProblem(kind, name);
      if (problem) add('CHS-SCHEMA-003', `metadata.name "${name}" ${problem}`);
    }
    if (typeof meta.namespace === 'string' && !(meta.namespace.length <= 63 && DNS1123_LABEL.test(meta.namespace))) {
      add('CHS-SCHEMA-003', `metadata.namespace "${meta.namespace}" must be a DNS-1123 label`);
    }
    for (const p of [...metadataProblems(meta, 'metadata'), ...templateMetadata(o).flatMap(([m, path]) => metadataProblems(m, path))]) add('CHS-SCHEMA-003', p);
    const quantities = quantityProblems(o);
    for (const q of quantities) add('CHS-SCHEMA-003', q.message);

    // CHS-SCHEMA-001: the published schema, strictly.
    const validate = schemaValidator(apiVersion, kind);
    if (!validate) {
      add('CHS-SCHEMA-001', `no schema for ${apiVersion} ${kind} is bundled: not validated (kinds with a schema: the Kubernetes built-ins, the prometheus-operator monitors, HTTPRoute and CiliumNetworkPolicy)`, 'warning');
      continue;
    }
    const reads = new Map<object, Reads>();
    const errors = validate(tracked(o, reads));
    const quantityPaths = new Set(quantities.map((q) => q.path));
    const byPath = new Map<string, string[]>();
    for (const e of errors) {
      const path = dotted(e.instancePath);
      if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
      const list = byPath.get(path) ?? [];
      const text = describeError(e);
      if (!list.includes(text)) list.push(text);
      byPath.set(path, list);
    }
    for (const [path, texts] of byPath) {
      // A malformed quantity is CHS-SCHEMA-003's, by the API server's own grammar.
      if (quantityPaths.has(path)) continue;
      add('CHS-SCHEMA-001', `${path || '(object)'}: ${texts.join(' or ')}`);
    }
    const unknown: string[] = [];
    unknownFields(o, reads, '', unknown);
    for (const path of unknown) add('CHS-SCHEMA-001', `${path}: unknown field (not in the ${apiVersion} ${kind} schema)`);
  }
}
