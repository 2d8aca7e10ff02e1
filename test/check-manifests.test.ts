import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { validatePreset } from '../lib/preset.js';
import { auditManifests, checkEnv, failedRules } from './support/check.js';
import { cliPath, repoRoot } from './support/cli.js';

const fixtures = join('test', 'fixtures', 'manifests');

describe('check --manifests on third-party YAML', () => {
  it('a privileged pod fails baseline, has no policy, no resources and a tag', async () => {
    const report = await auditManifests(join(fixtures, 'privileged-pod.yaml'));
    expect(failedRules(report)).toEqual(['CHS-IMG-002', 'CHS-NET-002', 'CHS-PSS-001', 'CHS-PSS-002', 'CHS-RES-001']);
    const pss = report.findings.filter((f) => f.ruleId === 'CHS-PSS-001').map((f) => f.message);
    expect(pss.join('\n')).toContain('(privileged at spec.containers[0].securityContext.privileged)');
    expect(report.findings.every((f) => f.file === 'test/fixtures/manifests/privileged-pod.yaml' && f.line === 1)).toBe(true);
  });

  it('a hostPath pod fails only the baseline hostPath control, even at --level baseline', async () => {
    for (const level of ['restricted', 'baseline'] as const) {
      const report = await auditManifests(join(fixtures, 'hostpath-pod.yaml'), { level });
      expect(failedRules(report)).toEqual(['CHS-PSS-001']);
      expect(report.findings.map((f) => f.message).join('\n')).toContain('hostPathVolumes');
      if (level === 'baseline') expect(report.rules.find((r) => r.rule.id === 'CHS-PSS-002')?.status).toBe('skip');
    }
  });

  it('a CronJob is checked through its job template', async () => {
    const report = await auditManifests(join(fixtures, 'cronjob.yaml'));
    expect(failedRules(report)).toEqual(['CHS-IMG-002', 'CHS-NET-002', 'CHS-PSS-002', 'CHS-RES-001']);
    const resources = report.findings.find((f) => f.ruleId === 'CHS-RES-001')!.message;
    expect(resources).toBe('CronJob nightly-report: container "report" sets no requests.ephemeral-storage, limits.cpu, limits.ephemeral-storage');
  });

  it('a clean restricted Deployment with its NetworkPolicy passes every rule', async () => {
    const report = await auditManifests(join(fixtures, 'restricted-deployment.yaml'));
    expect(report.findings).toEqual([]);
    expect(failedRules(report)).toEqual([]);
  });

  it('a whole directory is read, and a preset constrains registries and memory', async () => {
    const result = validatePreset({ constraints: { allowedRegistries: ['ghcr.io/acme/'], maxMemoryLimit: '128Mi' } }, 'p.yaml');
    if ('errors' in result) throw new Error(result.errors.join());
    const report = await auditManifests(fixtures, { preset: result.preset });
    const files = new Set(report.findings.map((f) => f.file));
    expect([...files].sort()).toEqual(['cronjob.yaml', 'hostpath-pod.yaml', 'privileged-pod.yaml', 'restricted-deployment.yaml'].map((f) => `test/fixtures/manifests/${f}`));
    expect(report.findings.filter((f) => f.ruleId === 'CHS-PRE-002').map((f) => f.file).sort()).toEqual(['test/fixtures/manifests/hostpath-pod.yaml', 'test/fixtures/manifests/privileged-pod.yaml']);
    expect(report.findings.filter((f) => f.ruleId === 'CHS-PRE-004').map((f) => f.message).sort()).toEqual([
      'CronJob nightly-report: container "report" memory limit 256Mi is above the preset ceiling 128Mi',
      'Deployment api: container "api" memory limit 256Mi is above the preset ceiling 128Mi',
      'Pod node-debugger: container "shell" has no memory limit, so the preset ceiling 128Mi cannot hold',
    ].sort());
  });

  it('reads stdin with -, through the real CLI; exit 1 on failures, 0 when clean, 2 on usage errors', async () => {
    const env = await checkEnv();
    const bad = await execa('node', [cliPath, 'check', '--manifests', '-', '--format', 'json'], {
      input: await readFile(join(repoRoot, fixtures, 'privileged-pod.yaml')),
      reject: false,
      env,
    });
    expect(bad.exitCode, bad.stderr).toBe(1);
    const json = JSON.parse(bad.stdout);
    expect(json.findings[0].file).toBe('stdin');
    const good = await execa('node', [cliPath, 'check', '--manifests', '-'], { input: await readFile(join(repoRoot, fixtures, 'restricted-deployment.yaml')), reject: false, env });
    expect(good.exitCode, good.stdout).toBe(0);
    expect(good.stdout).toContain('pass  CHS-PSS-002');
    for (const args of [
      ['--manifests', 'no/such/file.yaml'],
      ['--manifests', '-', '--format', 'xml'],
      ['--manifests', '-', '--level', 'privileged'],
      ['--manifests', '-', '--kube-version', 'latest'],
      ['--manifests', '-', '--kube-version', '1.34'],
      ['--manifests', '-', '--kube-version', '1.38'],
      ['--manifests', '-', 'some-dir'],
      ['--name', 'x'],
    ]) {
      const r = await execa('node', [cliPath, 'check', ...args], { input: '', reject: false, env, cwd: repoRoot });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      if (args.includes('--kube-version')) expect(r.stderr).toContain('1.35, 1.36, 1.37 (1.35–1.37)');
    }
  });

  it('accepts every supported minor in --kube-version, and applies its Pod Security version', async () => {
    // net.ipv4.tcp_notsent_lowat is a safe sysctl from 1.37 on (PSA check_sysctls.go).
    const pod = `apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  securityContext: { sysctls: [{ name: net.ipv4.tcp_notsent_lowat, value: "16384" }] }
  containers: [{ name: c, image: c }]
`;
    const file = join(await mkdtemp(join(tmpdir(), 'chs-kv-')), 'pod.yaml');
    await writeFile(file, pod);
    const baseline = async (kubeVersion: string) => failedRules(await auditManifests(file, { level: 'baseline', kubeVersion }));
    expect(await baseline('1.36')).toContain('CHS-PSS-001');
    expect(await baseline('1.37')).not.toContain('CHS-PSS-001');
  });
});
