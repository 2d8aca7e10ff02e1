import { kubernetesTarget } from '../../generators/features/kubernetes.js';
import { helmTemplate, parseManifests } from './kubernetes.js';

/** The environment the chart gives the first container of its object of `kind` for these values (`helm template`). */
export async function podEnv(chartDir: string, values: Record<string, unknown>, kind = 'Deployment'): Promise<Record<string, string>> {
  const result = await helmTemplate(chartDir, values, { kubeVersion: kubernetesTarget().helmKubeVersion });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  const object = parseManifests(result.stdout).find((o) => o.kind === kind);
  if (!object) throw new Error(`the chart renders no ${kind}`);
  const env = object.spec.template.spec.containers[0].env as { name: string; value: string }[];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

/** The environment the chart gives the service's container. */
export function deploymentEnv(chartDir: string, values: Record<string, unknown>): Promise<Record<string, string>> {
  return podEnv(chartDir, values);
}
