import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJson, formatSarif, formatTable } from '../lib/check/report.js';
import { type Preset, validatePreset } from '../lib/preset.js';
import { audit, failedRules, generatedService } from './support/check.js';

// deploy/image-policy.yaml is what makes the cluster refuse an undigested or foreign image. CHS-ADM-001 holds it
// to the generator's: each way of removing or loosening it fails the rule (and only it), in every report format.

const POLICY = 'deploy/image-policy.yaml';

function replaced(from: RegExp | string, to: string): (text: string) => string {
  return (text) => {
    const out = text.replace(from, to);
    if (out === text) throw new Error(`the image policy no longer contains ${String(from)}: update this test`);
    return out;
  };
}
const image = 'ghcr.io/platform/my-svc';

const loosenings: { name: string; change: (text: string) => string; says: string; floor?: boolean }[] = [
  { name: 'binding removed', change: (t) => t.slice(0, t.lastIndexOf('---')), says: 'ValidatingAdmissionPolicy my-svc-images is not bound to namespace my-svc with Deny', floor: true },
  { name: 'binding only warns', change: replaced('validationActions: [Deny]', 'validationActions: [Warn, Audit]'), says: 'validationActions ["Warn","Audit"] does not include Deny' },
  { name: 'binding to another namespace', change: replaced(/kubernetes\.io\/metadata\.name: my-svc$/m, 'kubernetes.io/metadata.name: other'), says: 'is not bound to namespace my-svc' },
  { name: 'binding excludes objects by label', change: replaced(/^( {4}namespaceSelector:)/m, '    objectSelector:\n      matchLabels: { checked: "yes" }\n$1'), says: 'matchResources.objectSelector narrows what the policy checks' },
  { name: 'failurePolicy Ignore', change: replaced('failurePolicy: Fail', 'failurePolicy: Ignore'), says: 'failurePolicy Ignore admits an object whose check fails to evaluate' },
  { name: 'ephemeral containers no longer matched', change: replaced('resources: [pods, pods/ephemeralcontainers]', 'resources: [pods]'), says: 'matchConstraints no longer select CREATE pods/ephemeralcontainers, UPDATE pods/ephemeralcontainers' },
  { name: 'CronJobs no longer matched', change: replaced('resources: [jobs, cronjobs]', 'resources: [jobs]'), says: 'no longer select CREATE cronjobs, UPDATE cronjobs' },
  { name: 'a matchCondition exempts objects', change: replaced(/^( {2}variables:)/m, '  matchConditions:\n    - name: not-debug\n      expression: "!has(object.metadata.labels)"\n$1'), says: 'matchConditions exempt the objects they do not match' },
  { name: 'digest check loosened to any @', change: replaced("'^[^@]+@sha256:[0-9a-f]{64}$'", "'@'"), says: 'variable unpinned differs from the generator\'s' },
  { name: 'init containers no longer checked', change: replaced(/^ {8}\+ \(has\(variables\.podSpec\.initContainers\).*\n/m, ''), says: 'variable images differs' },
  { name: 'registry validation removed', change: replaced(/^ {4}- expression: size\(variables\.foreign\) == 0\n( {6}.*\n)+?(?= {4}- |---)/m, ''), says: 'the validation size(variables.foreign) == 0 is missing or changed' },
  { name: 'a whole registry admitted', change: replaced(`expression: "['${image}']"`, `expression: "['${image}', 'docker.io/']"`), says: `admits docker.io/, outside the generator's list (${image})` },
  { name: 'allowed is no longer a list literal', change: replaced(`expression: "['${image}']"`, `expression: "['${image}'] + ['quay.io/x']"`), says: 'variable allowed is not a list of quoted repositories' },
];

/** `alsoFloor`: objects removed from deploy/ also fall below the generator's own render (CHS-FLOOR-001). */
async function expectOnlyAdmFailure(dir: string, says: string, file = POLICY, alsoFloor = false) {
  const report = await audit(dir);
  expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual(alsoFloor ? ['CHS-ADM-001', 'CHS-FLOOR-001'] : ['CHS-ADM-001']);
  const finding = report.findings.find((f) => f.ruleId === 'CHS-ADM-001' && f.message.includes(says));
  expect(finding, JSON.stringify(report.findings, null, 2)).toBeDefined();
  expect(finding!.file).toBe(file);
  return report;
}

describe('CHS-ADM-001: a removed or loosened image admission policy fails, in table, JSON and SARIF', () => {
  it('a generated service passes it', async () => {
    const report = await audit(await generatedService());
    expect(report.rules.find((r) => r.rule.id === 'CHS-ADM-001')!.status).toBe('pass');
    expect(report.findings.filter((f) => f.file === POLICY)).toEqual([]);
  });

  it('a service this generator did not make (no manifest): skipped, with the reason', async () => {
    const dir = await generatedService();
    await rm(join(dir, '.hardened-service.json'));
    const report = await audit(dir);
    expect(report.rules.find((r) => r.rule.id === 'CHS-ADM-001')).toMatchObject({ status: 'skip', note: expect.stringContaining('not generated by create-hardened-service') });
  });

  it('the policy file removed', async () => {
    const dir = await generatedService();
    await rm(join(dir, POLICY));
    await expectOnlyAdmFailure(dir, 'no ValidatingAdmissionPolicy bound to namespace my-svc in deploy/', POLICY, true);
  });

  it.each(loosenings.map((l) => [l.name, l] as const))('%s', async (_name, l) => {
    const dir = await generatedService();
    const path = join(dir, POLICY);
    await writeFile(path, l.change(await readFile(path, 'utf8')));
    const report = await expectOnlyAdmFailure(dir, l.says, POLICY, l.floor);
    expect(formatTable(report)).toContain(`FAIL CHS-ADM-001 ${POLICY}`);
    const json = JSON.parse(formatJson(report));
    expect(json.rules.find((r: { id: string }) => r.id === 'CHS-ADM-001').status).toBe('fail');
    const sarif = JSON.parse(formatSarif(report));
    const result = sarif.runs[0].results.find((r: { ruleId: string; message: { text: string } }) => r.ruleId === 'CHS-ADM-001' && r.message.text.includes(l.says));
    expect(result.level).toBe('error');
    expect(sarif.runs[0].tool.driver.rules[result.ruleIndex].id).toBe('CHS-ADM-001');
  });

  it("with a preset, a repository inside its allowedRegistries may be added; one outside may not", async () => {
    const { preset } = validatePreset({ defaults: { image: 'ghcr.io/acme/{name}' }, constraints: { allowedRegistries: ['ghcr.io/acme/'] } }, 'p.yaml') as { preset: Preset };
    const dir = await generatedService({}, preset);
    const path = join(dir, POLICY);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace("['ghcr.io/acme/my-svc']", "['ghcr.io/acme/my-svc', 'ghcr.io/acme/debug-tools']"));
    const ok = await audit(dir);
    expect(ok.rules.find((r) => r.rule.id === 'CHS-ADM-001')!.status).toBe('pass');
    await writeFile(path, text.replace("['ghcr.io/acme/my-svc']", "['ghcr.io/acme/my-svc', 'ghcr.io/acme-evil/x']"));
    await expectOnlyAdmFailure(dir, "admits ghcr.io/acme-evil/x, outside the preset's allowedRegistries (ghcr.io/acme/)");
  });
});

describe("CHS-PRE-006: a preset's required signature verifiers", () => {
  const presetRequiring = (verifiers: string[]) => (validatePreset({ constraints: { requiredVerifiers: verifiers } }, 'p.yaml') as { preset: Preset }).preset;
  const KIT = { 'policy-controller': 'verify/policy-controller.yaml', kyverno: 'verify/kyverno.yaml' } as const;
  const status = (report: Awaited<ReturnType<typeof audit>>) => report.rules.find((r) => r.rule.id === 'CHS-PRE-006')!.status;

  it('a generated service keeps both: pass; without the constraint the rule is skipped', async () => {
    expect(status(await audit(await generatedService({}, presetRequiring(['policy-controller', 'kyverno']))))).toBe('pass');
    expect(status(await audit(await generatedService()))).toBe('skip');
  });

  const changes: [string, keyof typeof KIT, (t: string) => string, string][] = [
    ['the policy-controller policy removed', 'policy-controller', () => '', 'no ClusterImagePolicy in verify/policy-controller.yaml, which the preset requires'],
    ['policy-controller only warns', 'policy-controller', replaced('mode: enforce', 'mode: warn'), 'does not deny an image that fails verification'],
    ['Kyverno audits only', 'kyverno', replaced('validationActions: [Deny]', 'validationActions: [Audit]'), 'does not deny an image that fails verification'],
    ['any repository may sign (Kyverno)', 'kyverno', replaced(/subjectRegExp: .*$/m, "subjectRegExp: '^https://github\\.com/.+'"), "not the pipeline's identity"],
    ['another issuer (policy-controller)', 'policy-controller', replaced('issuer: "https://token.actions.githubusercontent.com"', 'issuer: "https://accounts.google.com"'), "not the pipeline's identity"],
  ];
  it.each(changes)('%s', async (_name, verifier, change, says) => {
    const dir = await generatedService({}, presetRequiring([verifier]));
    const path = join(dir, KIT[verifier]);
    await writeFile(path, change(await readFile(path, 'utf8')));
    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual(['CHS-PRE-006']);
    const finding = report.findings.find((f) => f.ruleId === 'CHS-PRE-006');
    expect(finding?.message).toContain(says);
    expect(finding?.file).toBe(KIT[verifier]);
  });
});
