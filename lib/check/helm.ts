import { execa } from 'execa';

export type HelmRender = { ok: true; text: string } | { ok: false; error: string; missing?: boolean };

/**
 * `helm template` of a chart with optional extra values files, as the cluster would get it for the target
 * Kubernetes minor. helm comes from PATH (override with CHS_HELM); when it is missing the caller reports the
 * chart as unauditable (CHS-CHART-001) rather than passing it.
 */
export async function helmTemplate(
  chartDir: string,
  options: { release: string; namespace: string; kubeVersion: string; valuesFiles?: string[]; env?: NodeJS.ProcessEnv },
): Promise<HelmRender> {
  const helm = options.env?.CHS_HELM || 'helm';
  const args = ['template', options.release, chartDir, '--namespace', options.namespace, '--kube-version', options.kubeVersion];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  const result = await execa(helm, args, { reject: false, env: options.env, extendEnv: true, stdin: 'ignore' });
  if (result.exitCode === undefined || (result.failed && /ENOENT/.test(String(result.message)))) {
    return { ok: false, missing: true, error: `helm is not on PATH (${helm}): install helm v3.8+ or v4 to audit the chart` };
  }
  if (result.exitCode !== 0) {
    const first = String(result.stderr).split('\n').find((l) => l.trim()) ?? `helm exited ${result.exitCode}`;
    return { ok: false, error: first.replace(/^Error: /, '') };
  }
  return { ok: true, text: String(result.stdout) };
}
