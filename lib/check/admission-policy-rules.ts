import type { FindingSink } from './findings.js';
import type { LocatedObject } from './kubernetes-rules.js';
import { VERIFIERS } from './verifiers.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
const spec = (o: LocatedObject | undefined) => obj(o?.object.spec);
const nameOf = (o: LocatedObject) => String(obj(o.object.metadata).name ?? '');
const at = (o: LocatedObject | undefined, fallback: string) => (o ? { file: o.file, ...(o.line ? { line: o.line } : {}) } : { file: fallback });

/** The keyless identities (issuer, subject) a verifier's policy accepts, and whether it denies what fails. */
function verifierPolicy(object: Obj): { identities: unknown[]; denies: boolean } {
  const spec = obj(object.spec);
  if (object.kind === 'ClusterImagePolicy') {
    return {
      identities: list(spec.authorities).flatMap((a) => list(obj(obj(a).keyless).identities)),
      denies: (spec.mode ?? 'enforce') === 'enforce',
    };
  }
  return {
    identities: list(spec.attestors).flatMap((a) => list(obj(obj(obj(a).cosign).keyless).identities)),
    denies: list(spec.validationActions).includes('Deny'),
  };
}

/**
 * CHS-PRE-006: each verifier the preset requires has its policy in verify/, denying what fails, and accepting
 * exactly the identities of the generator's (the pipeline's own), no other signer.
 */
export function checkRequiredVerifiers(files: Map<string, Obj[]>, reference: Map<string, Obj[]>, required: string[], sink: FindingSink): void {
  for (const name of required) {
    const { file, kind, description } = VERIFIERS[name]!;
    const add = (message: string) => sink.add({ ruleId: 'CHS-PRE-006', level: 'error', file, message: `${description}: ${message}` });
    const object = (files.get(file) ?? []).find((o) => o.kind === kind);
    if (!object) {
      add(`no ${kind} in ${file}, which the preset requires (upgrade brings it back)`);
      continue;
    }
    const mine = verifierPolicy(object);
    const generated = verifierPolicy((reference.get(file) ?? []).find((o) => o.kind === kind) ?? {});
    if (!mine.denies) add(`${kind} ${String(obj(object.metadata).name)} does not deny an image that fails verification`);
    if (JSON.stringify(mine.identities) !== JSON.stringify(generated.identities)) {
      add(`${kind} ${String(obj(object.metadata).name)} accepts ${JSON.stringify(mine.identities)}, not the pipeline's identity ${JSON.stringify(generated.identities)}`);
    }
  }
}

const POLICY = 'ValidatingAdmissionPolicy';
const BINDING = 'ValidatingAdmissionPolicyBinding';
/** The variable that lists the admitted repositories: the one part of the policy a team may change (narrow). */
const ALLOWED = 'allowed';

/** The repositories of a CEL list literal of single-quoted strings, or undefined when it is anything else. */
export function repositoriesOf(expression: string): string[] | undefined {
  const match = /^\s*\[((?:\s*'[^'\\]*'\s*,?)*)\s*\]\s*$/.exec(expression);
  return match ? [...match[1]!.matchAll(/'([^'\\]*)'/g)].map((m) => m[1]!) : undefined;
}

/** Whether a repository (or a prefix ending in "/") is inside a preset's allowed registry prefix. */
function withinPrefix(entry: string, prefix: string): boolean {
  return prefix.endsWith('/') ? entry.startsWith(prefix) : entry === prefix || entry.startsWith(`${prefix}/`);
}

/** `operation resource` pairs a policy's matchConstraints select (with `*` kept as is). */
function selected(policy: LocatedObject): Set<string> {
  const pairs = new Set<string>();
  for (const rule of list(obj(spec(policy).matchConstraints).resourceRules).map(obj)) {
    for (const operation of list(rule.operations)) for (const resource of list(rule.resources)) pairs.add(`${String(operation)} ${String(resource)}`);
  }
  return pairs;
}

function coveredBy(pair: string, pairs: Set<string>): boolean {
  const [operation, resource] = pair.split(' ');
  return [operation, '*'].some((op) => [resource, '*', `${resource!.split('/')[0]}/*`].some((r) => pairs.has(`${op} ${r}`)));
}

export interface AdmissionPolicyContext {
  namespace: string;
  /** What the generator renders for the service: deploy/image-policy.yaml's objects. */
  reference: LocatedObject[];
  /** A preset's allowed registries: a team may admit more repositories, inside these. */
  allowedRegistries?: string[];
  fallbackFile: string;
}

/**
 * CHS-ADM-001: deploy/ keeps the generator's image admission policy, bound with Deny to the service's namespace:
 * the same resources matched, failurePolicy Fail, no matchConditions or binding selectors that exempt objects,
 * every variable and validation of the generator's unchanged, and an `allowed` list of repositories that admits
 * nothing beyond the generator's (or, with a preset, beyond its allowedRegistries).
 */
export function checkImageAdmissionPolicy(objects: LocatedObject[], ctx: AdmissionPolicyContext, sink: FindingSink): void {
  const refPolicy = ctx.reference.find((o) => o.object.kind === POLICY);
  const refBinding = ctx.reference.find((o) => o.object.kind === BINDING);
  if (!refPolicy || !refBinding) return;
  const add = (where: LocatedObject | undefined, message: string) => sink.add({ ruleId: 'CHS-ADM-001', level: 'error', ...at(where, ctx.fallbackFile), message });

  const bindings = objects.filter((o) => o.object.kind === BINDING && bindsNamespace(o, ctx.namespace));
  const policies = objects.filter((o) => o.object.kind === POLICY && bindings.some((b) => spec(b).policyName === nameOf(o)));
  const policy = policies.find((p) => nameOf(p) === nameOf(refPolicy)) ?? policies[0];
  if (!policy) {
    const unbound = objects.find((o) => o.object.kind === POLICY && nameOf(o) === nameOf(refPolicy));
    add(unbound, unbound
      ? `ValidatingAdmissionPolicy ${nameOf(unbound)} is not bound to namespace ${ctx.namespace} with Deny: nothing refuses undigested or foreign images there`
      : `no ValidatingAdmissionPolicy bound to namespace ${ctx.namespace} in deploy/: nothing refuses undigested or foreign images there (the generator's is deploy/image-policy.yaml)`);
    return;
  }
  const label = `ValidatingAdmissionPolicy ${nameOf(policy)}`;
  const binding = bindings.find((b) => spec(b).policyName === nameOf(policy))!;

  // The binding: Deny, for the whole namespace, nothing excluded.
  const actions = list(spec(binding).validationActions);
  if (!actions.includes('Deny')) add(binding, `${BINDING} ${nameOf(binding)}: validationActions ${JSON.stringify(actions)} does not include Deny: refused images are admitted`);
  const matchResources = obj(spec(binding).matchResources);
  for (const key of Object.keys(matchResources).filter((k) => k !== 'namespaceSelector')) {
    add(binding, `${BINDING} ${nameOf(binding)}: matchResources.${key} narrows what the policy checks: remove it`);
  }
  if (spec(binding).paramRef !== undefined) add(binding, `${BINDING} ${nameOf(binding)}: paramRef is set, the generator's policy takes no parameters`);

  // The policy: failing closed, matching at least what the generator's matches, no exemptions.
  const failurePolicy = spec(policy).failurePolicy ?? 'Fail';
  if (failurePolicy !== 'Fail') add(policy, `${label}: failurePolicy ${String(failurePolicy)} admits an object whose check fails to evaluate: use Fail`);
  const mine = selected(policy);
  const missing = [...selected(refPolicy)].filter((pair) => !coveredBy(pair, mine));
  if (missing.length) add(policy, `${label}: matchConstraints no longer select ${missing.join(', ')}: those are admitted unchecked`);
  for (const key of ['excludeResourceRules', 'namespaceSelector', 'objectSelector'] as const) {
    if (obj(spec(policy).matchConstraints)[key] !== undefined) add(policy, `${label}: matchConstraints.${key} narrows what the policy checks: remove it`);
  }
  if (list(spec(policy).matchConditions).length > 0) add(policy, `${label}: matchConditions exempt the objects they do not match: remove them`);

  // The CEL: the generator's, unchanged, except the list of repositories.
  const variables = new Map(list(spec(policy).variables).map(obj).map((v) => [String(v.name), String(v.expression ?? '')]));
  for (const v of list(spec(refPolicy).variables).map(obj)) {
    if (v.name === ALLOWED) continue;
    if (variables.get(String(v.name)) !== v.expression) {
      add(policy, `${label}: variable ${String(v.name)} ${variables.has(String(v.name)) ? 'differs from' : 'is missing, unlike'} the generator's: restore it (upgrade brings it back)`);
    }
  }
  const validations = list(spec(policy).validations).map(obj);
  for (const v of list(spec(refPolicy).validations).map(obj)) {
    if (!validations.some((m) => m.expression === v.expression)) add(policy, `${label}: the validation ${String(v.expression)} is missing or changed: restore it (upgrade brings it back)`);
  }

  const generated = repositoriesOf(String(list(spec(refPolicy).variables).map(obj).find((v) => v.name === ALLOWED)?.expression ?? '')) ?? [];
  const expression = variables.get(ALLOWED);
  const repositories = expression === undefined ? undefined : repositoriesOf(expression);
  if (!repositories) {
    add(policy, `${label}: variable ${ALLOWED} ${expression === undefined ? 'is missing' : 'is not a list of quoted repositories'}: keep a list such as ${generated.map((r) => `'${r}'`).join(', ')}`);
    return;
  }
  for (const entry of repositories) {
    if (generated.includes(entry)) continue;
    const registries = ctx.allowedRegistries;
    if (registries?.some((p) => withinPrefix(entry, p))) continue;
    const limit = registries ? `the preset's allowedRegistries (${registries.join(', ')})` : `the generator's list (${generated.join(', ')})`;
    add(policy, `${label}: admits ${entry}, outside ${limit}`);
  }
}

function bindsNamespace(binding: LocatedObject, namespace: string): boolean {
  const selector = obj(obj(spec(binding).matchResources).namespaceSelector);
  const labels = obj(selector.matchLabels);
  if (Object.keys(selector).length === 0) return true; // every namespace, this one included
  return labels['kubernetes.io/metadata.name'] === namespace && list(selector.matchExpressions).length === 0 && Object.keys(labels).length === 1;
}
