import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Answers } from '../../core/options.js';
import { resolveAnswers } from '../../lib/answers.js';
import { type CheckOptions, type CheckReport, checkManifests, checkService } from '../../lib/check/run-check.js';
import { withManifest } from '../../lib/manifest.js';
import { type Preset, recordPreset } from '../../lib/preset.js';
import { renderService } from '../../lib/render-service.js';
import { helmPath, toolsBin } from './kubernetes.js';

let helmHome: string | undefined;
/** The environment `check` runs helm in: the test helm on PATH, HELM_* homes in a temp dir. */
export async function checkEnv(): Promise<NodeJS.ProcessEnv> {
  helmPath(); // fails loudly when install-test-tools has not run
  helmHome ??= await mkdtemp(join(tmpdir(), 'chs-check-helm-'));
  return {
    ...process.env,
    PATH: `${toolsBin}:${process.env.PATH ?? ''}`,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
}

/** A freshly generated service (manifest included, as `create` writes it) in a temp dir. */
export async function generatedService(given: Partial<Record<keyof Answers, string>> = {}, preset?: Preset): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chs-check-'));
  const target = join(dir, 'my-svc');
  const answers = await resolveAnswers({ given, context: { targetDir: target }, ...(preset ? { preset } : {}) });
  const tree = withManifest(answers, await renderService(answers), preset ? recordPreset(preset) : undefined);
  for (const [path, bytes] of tree) {
    await mkdir(dirname(join(target, path)), { recursive: true });
    await writeFile(join(target, path), bytes);
  }
  return target;
}

export async function audit(dir: string, options: CheckOptions = {}): Promise<CheckReport> {
  return checkService(dir, process.cwd(), { env: await checkEnv(), ...options });
}

export async function auditManifests(path: string, options: CheckOptions = {}): Promise<CheckReport> {
  return checkManifests(path, process.cwd(), process.stdin, { env: await checkEnv(), ...options });
}

/** Rules that failed, sorted. */
export function failedRules(report: CheckReport): string[] {
  return report.rules.filter((r) => r.status === 'fail').map((r) => r.rule.id).sort();
}
