import { run } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { KubeObject } from './kubernetes.js';

/**
 * A ValidatingAdmissionPolicy evaluated as the API server does it, with a real CEL evaluator (@bufbuild/cel with
 * the strings extension, which Kubernetes has at version 2 since 1.29): does its matchConstraints select the
 * object, then its variables in order (each sees `object` and the ones before it), then each validation; the
 * first that is false denies with its messageExpression. An expression that fails to evaluate denies too
 * (failurePolicy Fail), with the evaluator's error as the message.
 */
export type Verdict = { admitted: true } | { admitted: false; message: string };

const RESOURCES: Record<string, { group: string; resource: string }> = {
  Pod: { group: '', resource: 'pods' },
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
};

/** Plain JSON as CEL values: objects become maps (the evaluator reads plain objects as messages). */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

function evaluate(expression: string, bindings: Record<string, unknown>): unknown {
  return run(expression, bindings as never, { funcs: strings });
}

/** Whether the policy's resourceRules select a CREATE of this object (or `subresource`, e.g. pods/ephemeralcontainers). */
export function selects(policy: KubeObject, object: KubeObject, subresource = ''): boolean {
  const target = RESOURCES[object.kind];
  if (!target) return false;
  const resource = subresource ? `${target.resource}/${subresource}` : target.resource;
  const operation = subresource ? 'UPDATE' : 'CREATE';
  return (policy.spec.matchConstraints.resourceRules as { apiGroups: string[]; resources: string[]; operations: string[] }[]).some(
    (r) => r.apiGroups.includes(target.group) && r.resources.includes(resource) && r.operations.includes(operation),
  );
}

export function admit(policy: KubeObject, object: KubeObject): Verdict {
  const bindings: Record<string, unknown> = { object: toCel(object) };
  const variables = new Map<string, unknown>();
  try {
    for (const v of policy.spec.variables as { name: string; expression: string }[]) {
      variables.set(v.name, evaluate(v.expression, { ...bindings, variables }));
    }
    for (const v of policy.spec.validations as { expression: string; messageExpression: string }[]) {
      const passed = evaluate(v.expression, { ...bindings, variables });
      if (typeof passed !== 'boolean') return { admitted: false, message: `validation ${v.expression} is not a bool` };
      if (!passed) return { admitted: false, message: String(evaluate(v.messageExpression, { ...bindings, variables })) };
    }
  } catch (err) {
    return { admitted: false, message: `evaluation error: ${(err as Error).message}` };
  }
  return { admitted: true };
}

/** Every CEL expression of the policy, for checks on the functions it calls. */
export function expressions(policy: KubeObject): string[] {
  return [
    ...(policy.spec.variables as { expression: string }[]).map((v) => v.expression),
    ...(policy.spec.validations as { expression: string; messageExpression: string }[]).flatMap((v) => [v.expression, v.messageExpression]),
  ];
}
