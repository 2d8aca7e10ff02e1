import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { options } from '../core/options.js';
import { resolveAnswers } from '../lib/answers.js';
import { loadPreset, validatePreset, type Preset } from '../lib/preset.js';
import { repoRoot, runCli, tempDir } from './support/cli.js';

function preset(content: unknown): Preset {
  const result = validatePreset(content, 'acme.yaml');
  if ('errors' in result) throw new Error(result.errors.join('\n'));
  return result.preset;
}

describe('preset validation: one clear line per bad field', () => {
  it.each([
    [{ locks: { port: 80 } }, 'locks.port: port 80 is out of range: use a whole number from 1024 to 65535 (ports below 1024 need root)'],
    [{ defaults: { ci: 'jenkins' } }, 'defaults.ci: --ci "jenkins" is not one of: github, gitlab'],
    [{ locks: { colour: 'blue' } }, 'locks.colour: unknown option: use one of name, description, framework'],
    [{ defaults: { name: 'Bad_Name' } }, 'defaults.name: service name "Bad_Name" is not a DNS-1123 label'],
    [{ defaults: { owner: ['a'] } }, 'defaults.owner: ["a"] is not a string'],
    [{ defaults: { ci: 'github' }, locks: { ci: 'github' } }, 'locks.ci: ci is set twice'],
    [{ defaults: { image: 'ghcr.io/acme/{nme}' } }, 'defaults.image: placeholder {nme} is not an option answered before image'],
    [{ default: {} }, 'default: unknown field: use name, description, defaults, locks, constraints'],
    [{ locks: 'ci=github' }, 'locks: must be a mapping of option to value'],
    [{ constraints: { minNodeVersion: 99 } }, 'constraints.minNodeVersion: 99 is above every Node line this generator supports'],
    [{ constraints: { minNodeVersion: '24' } }, 'constraints.minNodeVersion: "24" is not a whole number'],
    [{ constraints: { minKubernetesVersion: 1.36 } }, 'constraints.minKubernetesVersion: 1.36 must be a quoted minor, e.g. "1.36"'],
    [{ constraints: { minKubernetesVersion: '1.29' } }, 'constraints.minKubernetesVersion: "1.29" is not a Kubernetes minor check supports (1.35, 1.36, 1.37)'],
    [{ constraints: { maxMemoryLimit: 'lots' } }, 'constraints.maxMemoryLimit: "lots" is not a Kubernetes quantity'],
    [{ constraints: { allowedRegistries: [] } }, 'constraints.allowedRegistries: must be a non-empty list'],
    [{ constraints: { allowedRegistries: ['GHCR.io/X'] } }, 'constraints.allowedRegistries[0]: "GHCR.io/X" is not an image prefix'],
    [{ constraints: { requiredScanners: ['snyk'] } }, 'constraints.requiredScanners[0]: "snyk" is not a known scanner: use trivy, gitleaks'],
    [{ constraints: { requiredVerifiers: ['gatekeeper'] } }, 'constraints.requiredVerifiers[0]: "gatekeeper" is not a known verifier: use policy-controller, kyverno'],
    [{ constraints: { requiredVerifiers: 'kyverno' } }, 'constraints.requiredVerifiers: must be a list, e.g. [policy-controller]'],
    [{ constraints: { maxCpu: '1' } }, 'constraints.maxCpu: unknown constraint'],
    [{ locks: { image: 'docker.io/x/y' }, constraints: { allowedRegistries: ['ghcr.io/acme/'] } }, 'locks.image: image "docker.io/x/y" is not in an allowed registry'],
    [{ locks: { 'node-version': 22 }, constraints: { minNodeVersion: 24 } }, 'locks.nodeVersion: Node 22 is below the minimum Node line 24'],
    [[1, 2], 'the preset must be a mapping'],
  ])('%j → %s', (content, message) => {
    const result = validatePreset(content, 'acme.yaml');
    expect('errors' in result && result.errors.join('\n')).toContain(message);
  });

  it('reports every bad field at once, each on its own line naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chs-preset-'));
    await writeFile(join(dir, 'acme.yaml'), 'locks:\n  port: 80\n  ci: jenkins\nconstraints:\n  maxMemoryLimit: lots\n');
    const error = await loadPreset('acme.yaml', dir).catch((e: Error) => e);
    expect(String((error as Error).message).split('\n')).toEqual([
      'preset acme.yaml: locks.port: port 80 is out of range: use a whole number from 1024 to 65535 (ports below 1024 need root)',
      'preset acme.yaml: locks.ci: --ci "jenkins" is not one of: github, gitlab',
      'preset acme.yaml: constraints.maxMemoryLimit: "lots" is not a Kubernetes quantity: use e.g. "512Mi" or "1Gi"',
    ]);
  });

  it('rejects unreadable, unparsable and non-preset files clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chs-preset-'));
    await writeFile(join(dir, 'bad.yaml'), 'locks: [unclosed\n');
    await writeFile(join(dir, 'bad.json'), '{ "locks": ');
    await writeFile(join(dir, 'preset.toml'), 'x = 1');
    await expect(loadPreset('missing.yaml', dir)).rejects.toThrow(/^preset missing.yaml: cannot read .*missing.yaml: check the path$/);
    await expect(loadPreset('bad.yaml', dir)).rejects.toThrow(/^preset bad.yaml: is not valid YAML: /);
    await expect(loadPreset('bad.json', dir)).rejects.toThrow(/^preset bad.json: is not valid JSON: /);
    await expect(loadPreset('./preset.toml', dir)).rejects.toThrow('preset ./preset.toml: preset.toml is not a .yaml, .yml or .json file');
    await expect(loadPreset('no-such-preset-package', dir)).rejects.toThrow('preset no-such-preset-package: no such file, and no installed npm package of that name');
  });

  it('the shipped example preset is valid and uses every kind of field', async () => {
    const example = await loadPreset('presets/example.yaml', repoRoot);
    expect(Object.keys(example.defaults).length).toBeGreaterThan(0);
    expect(example.locks).toEqual({ ci: 'github' });
    expect(Object.keys(example.constraints).sort()).toEqual(['allowedRegistries', 'maxMemoryLimit', 'minKubernetesVersion', 'minNodeVersion', 'requiredScanners', 'requiredVerifiers']);
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('presets/');
  });
});

describe('presets from installed npm packages', () => {
  async function installFakePackage(dir: string, name: string, manifest: Record<string, unknown>, files: Record<string, string>) {
    const pkgDir = join(dir, 'node_modules', ...name.split('/'));
    await mkdir(pkgDir, { recursive: true });
    await writeFile(join(pkgDir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
    for (const [file, text] of Object.entries(files)) await writeFile(join(pkgDir, file), text);
  }

  it('resolves the package from the current directory: create-hardened-service-preset, else main', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chs-preset-pkg-'));
    await installFakePackage(dir, '@acme/service-preset', { 'create-hardened-service-preset': 'preset.yaml', main: 'index.js' }, { 'preset.yaml': 'locks:\n  framework: express\n' });
    await installFakePackage(dir, 'acme-json-preset', { main: 'preset.json' }, { 'preset.json': '{"defaults":{"owner":"payments"}}' });
    await installFakePackage(dir, 'acme-js-preset', { main: 'index.js' }, { 'index.js': 'module.exports = {}' });
    expect((await loadPreset('@acme/service-preset', dir)).locks).toEqual({ framework: 'express' });
    expect((await loadPreset('acme-json-preset', dir)).defaults).toEqual({ owner: 'payments' });
    await expect(loadPreset('acme-js-preset', dir)).rejects.toThrow('preset acme-js-preset: the package points to index.js: point "create-hardened-service-preset" at a .yaml or .json file');
    // Through the CLI, the service records the preset's content.
    const created = await runCli(['svc', '--preset', '@acme/service-preset'], { cwd: dir });
    expect(created.exitCode, created.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'svc', '.hardened-service.json'), 'utf8'));
    expect(manifest.answers.framework).toBe('express');
    expect(manifest.preset).toMatchObject({ source: '@acme/service-preset', locks: { framework: 'express' } });
  });
});

describe('presets applied to answers', () => {
  const context = { targetDir: 'orders-api' };

  it('defaults replace ours (with placeholders from earlier answers), flags still win', async () => {
    const p = preset({ defaults: { owner: 'payments', image: 'registry.acme.example/{owner}/{name}', 'node-version': 24, system: 'billing' } });
    const answers = await resolveAnswers({ given: {}, context, preset: p });
    expect(answers).toMatchObject({ owner: 'payments', image: 'registry.acme.example/payments/orders-api', nodeVersion: 24, system: 'billing' });
    const p2 = preset({ defaults: { image: 'registry.acme.example/payments/{name}' } });
    expect((await resolveAnswers({ given: { image: 'ghcr.io/me/x' }, context, preset: p2 })).image).toBe('ghcr.io/me/x');
    expect((await resolveAnswers({ given: {}, context, preset: p2 })).image).toBe('registry.acme.example/payments/orders-api');
  });

  it('an invalid placeholder result names the preset default', async () => {
    const p = preset({ defaults: { image: 'registry.acme.example/{owner}/{name}' } });
    await expect(resolveAnswers({ given: { owner: 'group:default/payments' }, context, preset: p })).rejects.toThrow(
      /is not a valid image name.*\(this is the default of preset acme.yaml: pass --image\)$/,
    );
  });

  it('locked answers are never prompted; other answers are', async () => {
    const p = preset({ locks: { ci: 'gitlab', framework: 'express' } });
    const ask = vi.fn(async (_option: unknown, fallback: string | number) => fallback);
    const answers = await resolveAnswers({ given: {}, context, ask, preset: p });
    const asked = ask.mock.calls.map(([option]) => (option as { key: string }).key);
    expect(asked).not.toContain('ci');
    expect(asked).not.toContain('framework');
    expect(asked).toEqual(options.map((o) => o.key).filter((k) => k !== 'ci' && k !== 'framework'));
    expect(answers).toMatchObject({ ci: 'gitlab', framework: 'express' });
  });

  it('a flag equal to the lock is fine; a conflicting flag is an error naming the lock', async () => {
    const p = preset({ locks: { ci: 'gitlab' } });
    expect((await resolveAnswers({ given: { ci: 'gitlab' }, context, preset: p })).ci).toBe('gitlab');
    await expect(resolveAnswers({ given: { ci: 'github' }, context, preset: p })).rejects.toThrow(
      '--ci github conflicts with preset acme.yaml: it locks ci to gitlab (drop the flag, or ask the platform team to change the preset)',
    );
  });

  it('constraints hold for flags: registries and minimum Node line', async () => {
    const p = preset({ constraints: { allowedRegistries: ['ghcr.io/acme/'], minNodeVersion: 24 } });
    await expect(resolveAnswers({ given: {}, context, preset: p })).rejects.toThrow("no image is named (the default: the CI repository's registry, known only at run time), and images must come from an allowed registry (ghcr.io/acme/), which preset acme.yaml requires: pass --image with an allowed value");
    await expect(resolveAnswers({ given: { image: 'ghcr.io/acme/x', nodeVersion: '22' }, context, preset: p })).rejects.toThrow('Node 22 is below the minimum Node line 24, which preset acme.yaml requires: pass --node-version');
    expect((await resolveAnswers({ given: { image: 'ghcr.io/acme/x' }, context, preset: p })).image).toBe('ghcr.io/acme/x');
  });
});

describe('presets through the CLI: create records, upgrade re-applies', () => {
  async function presetFile(dir: string, text: string, name = 'acme.yaml') {
    await writeFile(join(dir, name), text);
    return name;
  }

  it('a conflicting flag exits 2 naming the lock, and writes nothing', async () => {
    const dir = await tempDir();
    await presetFile(dir, 'locks:\n  ci: github\n');
    const r = await runCli(['svc', '--preset', 'acme.yaml', '--ci', 'gitlab'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('create-hardened-service: --ci gitlab conflicts with preset acme.yaml: it locks ci to github (drop the flag, or ask the platform team to change the preset)');
  });

  it('a bad preset exits 2 with one line per problem', async () => {
    const dir = await tempDir();
    await presetFile(dir, 'locks:\n  port: 80\nconstraints:\n  requiredScanners: [snyk]\n');
    const r = await runCli(['svc', '--preset', 'acme.yaml'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('preset acme.yaml: locks.port: port 80 is out of range');
  });

  it('a constraint the generator cannot meet fails before anything is written', async () => {
    const dir = await tempDir();
    await presetFile(dir, 'constraints:\n  maxMemoryLimit: 128Mi\n  requiredScanners: [codeql]\n');
    const r = await runCli(['svc', '--preset', 'acme.yaml', '--ci', 'gitlab'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("constraints.maxMemoryLimit: 128Mi is below the chart's default memory limit 256Mi");
    expect(r.stderr).toContain('the GitLab pipeline this generator emits does not run codeql');
  });

  it('records the preset by content; upgrade re-applies it offline, and --preset replaces it', async () => {
    const dir = await tempDir();
    await presetFile(dir, 'name: acme\ndefaults:\n  owner: payments\nlocks:\n  framework: express\n');
    const created = await runCli(['svc', '--preset', 'acme.yaml'], { cwd: dir });
    expect(created.exitCode, created.stderr).toBe(0);
    const manifestPath = join(dir, 'svc', '.hardened-service.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest.preset).toEqual({ source: 'acme.yaml', name: 'acme', defaults: { owner: 'payments' }, locks: { framework: 'express' }, constraints: {} });
    expect(manifest.answers).toMatchObject({ framework: 'express', owner: 'payments' });

    // The preset file is gone: upgrade uses the recorded content, and the lock still binds flags.
    await writeFile(join(dir, 'acme.yaml'), 'this file is no longer a preset: [');
    const conflict = await runCli(['upgrade', 'svc', '--framework', 'fastify', '--allow-dirty'], { cwd: dir });
    expect(conflict.exitCode).toBe(2);
    expect(conflict.stderr).toContain('conflicts with preset acme.yaml: it locks framework to express');
    const current = await runCli(['upgrade', 'svc', '--check'], { cwd: dir });
    expect(current.exitCode, current.stdout + current.stderr).toBe(0);

    // A new preset version changes the lock: upgrade applies it and records the new preset.
    await presetFile(dir, 'name: acme\nlocks:\n  framework: fastify\n', 'acme-v2.yaml');
    const behind = await runCli(['upgrade', 'svc', '--check', '--preset', 'acme-v2.yaml'], { cwd: dir });
    expect(behind.exitCode).toBe(1);
    const upgraded = await runCli(['upgrade', 'svc', '--preset', 'acme-v2.yaml', '--allow-dirty'], { cwd: dir });
    expect(upgraded.exitCode, upgraded.stdout + upgraded.stderr).toBe(0);
    const after = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(after.answers.framework).toBe('fastify');
    expect(after.preset).toMatchObject({ source: 'acme-v2.yaml', locks: { framework: 'fastify' } });
  });

  it('manifests written before presets existed still upgrade and check', async () => {
    const dir = await tempDir();
    expect((await runCli(['svc'], { cwd: dir })).exitCode).toBe(0);
    const manifestPath = join(dir, 'svc', '.hardened-service.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest.preset).toBeUndefined();
    const r = await runCli(['upgrade', 'svc', '--check'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });
});
