import { kubernetesTarget } from '../../generators/features/kubernetes.js';
import { helmTemplate, parseManifests } from './kubernetes.js';

/** The environment the chart gives the service's container for these values (`helm template`). */
export async function deploymentEnv(chartDir: string, values: Record<string, unknown>): Promise<Record<string, string>> {
  const result = await helmTemplate(chartDir, values, { kubeVersion: kubernetesTarget().helmKubeVersion });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  const deployment = parseManifests(result.stdout).find((o) => o.kind === 'Deployment')!;
  const env = deployment.spec.template.spec.containers[0].env as { name: string; value: string }[];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}
