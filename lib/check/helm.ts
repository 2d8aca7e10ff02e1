import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type HelmRender = { ok: true; text: string } | { ok: false; error: string; missing?: boolean };

interface HelmTemplateOptions {
  release: string;
  namespace: string;
  kubeVersion: string;
  valuesFiles?: string[];
  /** `--set` values, e.g. a stand-in image.repository for a chart whose image CI names at run time. */
  set?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Charts rendered in this process, by everything `helm template` reads: which helm (PATH, CHS_HELM) and its
 * HELM_* settings, the flags, and every file of the chart folder and of the values files. A fleet whose services
 * share a chart and values runs helm once per distinct set, also when several are audited at once. Failed renders
 * are not kept (a message may name the folder).
 */
const renders = new Map<string, Promise<HelmRender>>();

function renderKey(chartDir: string, { release, namespace, kubeVersion, valuesFiles = [], set = [], env = {} }: HelmTemplateOptions): string {
  const key = createHash('sha256');
  const add = (part: string | Buffer) => key.update(`${part.length}:`).update(part);
  add(JSON.stringify([release, namespace, kubeVersion, set, Object.entries(env).filter(([k]) => k === 'PATH' || k === 'CHS_HELM' || k.startsWith('HELM_')).sort()]));
  const files = readdirSync(chartDir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory());
  for (const path of files.map((e) => relative(chartDir, join(e.parentPath, e.name))).sort()) {
    add(path);
    add(readFileSync(join(chartDir, path)));
  }
  for (const file of valuesFiles) add(readFileSync(file));
  return key.digest('hex');
}

/**
 * `helm template` of a chart with optional extra values files, as the cluster would get it for the target
 * Kubernetes minor. helm comes from PATH (override with CHS_HELM); when it is missing the caller reports the
 * chart as unauditable (CHS-CHART-001) rather than passing it.
 */
export async function helmTemplate(chartDir: string, options: HelmTemplateOptions): Promise<HelmRender> {
  const key = renderKey(chartDir, options);
  let rendered = renders.get(key);
  if (!rendered) {
    rendered = runHelmTemplate(chartDir, options);
    renders.set(key, rendered);
    if (!(await rendered).ok) renders.delete(key);
  }
  return rendered;
}

async function runHelmTemplate(chartDir: string, options: HelmTemplateOptions): Promise<HelmRender> {
  const helm = options.env?.CHS_HELM || 'helm';
  const args = ['template', options.release, chartDir, '--namespace', options.namespace, '--kube-version', options.kubeVersion];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const value of options.set ?? []) args.push('--set', value);
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
