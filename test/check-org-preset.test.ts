import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadPreset } from '../lib/preset.js';
import { checkEnv, generatedService } from './support/check.js';
import { cliPath, repoRoot, tempDir } from './support/cli.js';

// The preset a CI check enforces comes from the organisation (--preset, or the CREATE_HARDENED_SERVICE_PRESET
// variable its CI sets), not only from the service's manifest: a team that deletes or edits "preset" in
// .hardened-service.json no longer switches the preset rules off.

const EXAMPLE = join(repoRoot, 'presets/example.yaml');

async function presetService(): Promise<string> {
  return generatedService({ ci: 'github' }, await loadPreset(EXAMPLE, repoRoot));
}

async function editManifest(dir: string, change: (m: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, '.hardened-service.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  change(manifest);
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** What the team did: an image from an unapproved registry and memory above the preset's ceiling. */
async function outsideThePreset(dir: string): Promise<void> {
  await mkdir(join(dir, 'chart/ci'), { recursive: true });
  await writeFile(join(dir, 'chart/ci/prod.yaml'), 'image:\n  repository: docker.io/evil/miner\n  digest: sha256:' + 'e'.repeat(64) + '\nresources:\n  limits:\n    cpu: "1"\n    memory: 2Gi\n    ephemeral-storage: 256Mi\n');
}

async function check(dir: string, env: Record<string, string> = {}) {
  const run = await execa('node', [cliPath, 'check', '.', '--format', 'json'], { cwd: dir, env: { ...(await checkEnv()), ...env }, reject: false });
  const report = JSON.parse(run.stdout) as { rules: { id: string; status: string }[]; findings: { ruleId: string; message: string }[] };
  return { exitCode: run.exitCode, failed: report.rules.filter((r) => r.status === 'fail').map((r) => r.id), messages: report.findings.map((f) => `${f.ruleId} ${f.message}`).join('\n') };
}

describe('the organisation pins the preset check enforces', () => {
  it('deleting "preset" from the manifest passed before; with CREATE_HARDENED_SERVICE_PRESET set it fails, and the preset rules still hold', async () => {
    const dir = await presetService();
    await outsideThePreset(dir);
    await editManifest(dir, (m) => delete m.preset);
    // The hole: without the organisation's preset, the manifest alone decides, and it names none.
    const alone = await check(dir);
    expect(alone.failed).not.toContain('CHS-PRE-002');
    const pinned = await check(dir, { CREATE_HARDENED_SERVICE_PRESET: EXAMPLE });
    expect(pinned.exitCode).toBe(1);
    expect(pinned.failed).toEqual(expect.arrayContaining(['CHS-PRE-002', 'CHS-PRE-004', 'CHS-PRE-007']));
    expect(pinned.messages).toContain('CHS-PRE-007 records no preset, but the organisation\'s preset');
    expect(pinned.messages).toContain('docker.io/evil/miner');
    expect(pinned.messages).toContain('memory limit 2Gi is above the preset ceiling 1Gi');
  });

  it('a manifest whose preset was loosened is reported, naming what differs; --preset wins over the variable', async () => {
    const dir = await presetService();
    await editManifest(dir, (m) => {
      (m.preset as { constraints: Record<string, unknown> }).constraints.allowedRegistries = ['docker.io/'];
    });
    const pinned = await check(dir, { CREATE_HARDENED_SERVICE_PRESET: EXAMPLE });
    expect(pinned.failed).toEqual(['CHS-PRE-007']);
    expect(pinned.messages).toMatch(/CHS-PRE-007 records preset acme-platform, which differs from the organisation's preset .*example\.yaml in constraints/);
    const flag = await execa('node', [cliPath, 'check', '.', '--preset', EXAMPLE], { cwd: dir, env: { ...(await checkEnv()), CREATE_HARDENED_SERVICE_PRESET: '/nonexistent.yaml' }, reject: false });
    expect(flag.stdout).toContain('CHS-PRE-007');
  });

  it('the untouched service passes with the organisation\'s preset; a deleted manifest does not', async () => {
    const dir = await presetService();
    expect((await check(dir, { CREATE_HARDENED_SERVICE_PRESET: EXAMPLE })).failed).toEqual([]);
    await rm(join(dir, '.hardened-service.json'));
    const gone = await check(dir, { CREATE_HARDENED_SERVICE_PRESET: EXAMPLE });
    expect(gone.failed).toContain('CHS-PRE-007');
    expect(gone.messages).toContain('CHS-PRE-007 missing: the organisation\'s preset');
  });

  it('the variable may name the folder of an installed preset package (what the emitted CI installs)', async () => {
    const root = await tempDir('chs-org-preset-');
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: '@acme/hardened-preset', version: '1.4.0', 'create-hardened-service-preset': 'preset.yaml' }));
    await writeFile(join(root, 'preset.yaml'), await readFile(EXAMPLE, 'utf8'));
    expect((await loadPreset(root, repoRoot)).name).toBe('acme-platform');
  });
});
