import AjvModule from 'ajv';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { validatePreset, type Preset } from '../lib/preset.js';
import { audit, checkEnv, generatedService } from './support/check.js';
import { cliPath, repoRoot, tempDir } from './support/cli.js';

// `check` as a fleet gate (several folders or a glob, one line per service) and the Kubernetes minor it
// audits against (--kube-version, the preset's minimum).

const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const validateJson = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(await readFile(join(repoRoot, 'data/check-report.schema.json'), 'utf8')));

function preset(content: unknown): Preset {
  const result = validatePreset(content, 'acme.yaml');
  if ('errors' in result) throw new Error(result.errors.join('\n'));
  return result.preset;
}

/** Three services side by side under one folder; the second has a weakened namespace. */
async function fleet(): Promise<string> {
  const root = await tempDir('chs-fleet-');
  for (const name of ['svc-a', 'svc-b', 'svc-c']) {
    const dir = await generatedService({ name });
    await execa('cp', ['-r', dir, join(root, name)]);
  }
  const ns = join(root, 'svc-b', 'deploy', 'namespace.yaml');
  await writeFile(ns, (await readFile(ns, 'utf8')).replace('enforce: restricted', 'enforce: baseline'));
  await mkdir(join(root, 'docs'));
  return root;
}

describe('check on a fleet', () => {
  it('a quoted glob: one summary line per service, exit 1 when one fails; JSON is a list of reports', async () => {
    const root = await fleet();
    const env = await checkEnv();
    const table = await execa('node', [cliPath, 'check', 'svc-*'], { cwd: root, env, reject: false });
    expect(table.exitCode, table.stderr).toBe(1);
    expect(table.stdout.split('\n')).toEqual([
      expect.stringMatching(/^svc-a: pass \(\d+\/\d+ rules passed; 0 errors, 1 warning\)$/),
      'svc-b: FAIL (1 rule failed: CHS-NS-001; 1 error, 1 warning)',
      expect.stringMatching(/^svc-c: pass /),
      '3 services: 2 passed, 1 failed',
    ]);
    const json = await execa('node', [cliPath, 'check', 'svc-a', 'svc-c', '--format', 'json'], { cwd: root, env, reject: false });
    expect(json.exitCode).toBe(0);
    const reports = JSON.parse(json.stdout);
    expect(reports.map((r: { target: string; passed: boolean }) => [r.target, r.passed])).toEqual([['svc-a', true], ['svc-c', true]]);
    expect(validateJson(reports), JSON.stringify(validateJson.errors)).toBe(true);
    expect(json.stderr).toContain('2 services: 2 passed, 0 failed');
    const sarif = await execa('node', [cliPath, 'check', 'svc-*', '--format', 'sarif', '--output', 'fleet.sarif'], { cwd: root, env, reject: false });
    expect(sarif.exitCode).toBe(1);
    expect(JSON.parse(await readFile(join(root, 'fleet.sarif'), 'utf8')).runs).toHaveLength(3);
  });

  it('a folder that is not a service is one error line and exit 1, the others are still audited; a glob that matches nothing is exit 2', async () => {
    const root = await fleet();
    const env = await checkEnv();
    const r = await execa('node', [cliPath, 'check', 'svc-a', 'no-such-dir'], { cwd: root, env, reject: false });
    // In a fleet a service that cannot be audited fails (1); 2 is for a command wrong as a whole (below).
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^svc-a: pass/m);
    expect(r.stdout).toContain('no-such-dir: ERROR no-such-dir is not a directory');
    const none = await execa('node', [cliPath, 'check', 'api-*'], { cwd: root, env, reject: false });
    expect(none.exitCode).toBe(2);
    expect(none.stderr.trim()).toBe('create-hardened-service: no folder matches api-*');
  });
});

describe('check on a fleet that shares charts', () => {
  it('runs helm once per distinct chart, values file and flags: copies of a service cost one render per values file', async () => {
    const root = await tempDir('chs-fleet-helm-');
    const original = await generatedService({ name: 'svc-a' });
    for (const copy of ['svc-a', 'svc-a2', 'svc-a3']) await execa('cp', ['-r', original, join(root, copy)]);
    await execa('cp', ['-r', await generatedService({ name: 'svc-b' }), join(root, 'svc-b')]);
    // A helm that logs each run, then does it.
    const log = join(root, 'helm.log');
    const helm = join(root, 'logging-helm');
    await writeFile(helm, `#!/bin/sh\necho "$*" >> ${log}\nexec helm "$@"\n`, { mode: 0o755 });
    const env = { ...(await checkEnv()), CHS_HELM: helm };
    const run = await execa('node', [cliPath, 'check', 'svc-*', '--format', 'json'], { cwd: root, env, reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    const reports = JSON.parse(run.stdout) as { target: string; renders: string[]; findings: unknown[] }[];
    expect(reports.map((r) => r.target)).toEqual(['svc-a', 'svc-a2', 'svc-a3', 'svc-b']);
    const perService = reports[0]!.renders.length;
    expect(perService).toBeGreaterThan(0);
    const runs = (await readFile(log, 'utf8')).trim().split('\n');
    // svc-a's chart once per values file (its copies reuse the renders), svc-b's (another release) once per values file.
    expect(runs).toHaveLength(2 * perService);
    expect(new Set(reports.slice(0, 3).map((r) => JSON.stringify(r.findings))).size).toBe(1);
  });
});

describe('the Kubernetes minor check audits against', () => {
  it("defaults to the preset's minimum when it is newer than the generator's target, and refuses an older --kube-version", async () => {
    const dir = await generatedService();
    const newer = preset({ constraints: { minKubernetesVersion: '1.37' } });
    expect((await audit(dir, { preset: newer })).kubernetesVersion).toBe('1.37');
    expect((await audit(dir, { preset: preset({ constraints: { minKubernetesVersion: '1.35' } }) })).kubernetesVersion).toBe('1.35');
    await expect(audit(dir, { preset: newer, kubeVersion: '1.36' })).rejects.toThrow("--kube-version 1.36 is below the preset's minimum Kubernetes 1.37");
  });
});
