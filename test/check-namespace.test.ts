import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJson, formatSarif, formatTable } from '../lib/check/report.js';
import { audit, failedRules, generatedService } from './support/check.js';

// The namespace is where Pod Security is enforced and where the quota, limits and default deny live: the
// first thing a team under deadline loosens. Each weakening of deploy/namespace.yaml fails its own rule, and
// says so in every report format.

const NAMESPACE = 'deploy/namespace.yaml';

function editDocument(kind: string, change: (doc: string) => string): (text: string) => string {
  return (text) => text.split(/^---$/m).map((doc) => (new RegExp(`^kind: ${kind}$`, 'm').test(doc) ? change(doc) : doc)).join('---');
}
function removeDocument(kind: string): (text: string) => string {
  return (text) => text.split(/^---$/m).filter((doc) => !new RegExp(`^kind: ${kind}$`, 'm').test(doc)).join('---');
}
function replaced(from: RegExp | string, to: string): (doc: string) => string {
  return (doc) => {
    const out = doc.replace(from, to);
    if (out === doc) throw new Error(`the namespace manifest no longer contains ${String(from)}: update this test`);
    return out;
  };
}

// `floor`: the weakening also removes or opens what the generator renders, which CHS-FLOOR-001 names too.
const weakenings: { name: string; change: (text: string) => string; rule: string; says: string; floor?: string }[] = [
  { name: 'enforce baseline', change: editDocument('Namespace', replaced('enforce: restricted', 'enforce: baseline')), rule: 'CHS-NS-001', says: 'pod-security.kubernetes.io/enforce is "baseline", must be restricted' },
  { name: 'audit privileged', change: editDocument('Namespace', replaced('audit: restricted', 'audit: privileged')), rule: 'CHS-NS-001', says: 'pod-security.kubernetes.io/audit is "privileged"' },
  {
    name: 'Pod Security labels removed',
    change: editDocument('Namespace', replaced(/^ {4}pod-security\.kubernetes\.io\/.*\n/gm, '')),
    rule: 'CHS-NS-001',
    says: 'label pod-security.kubernetes.io/warn is missing, must be restricted',
  },
  { name: 'enforce-version latest', change: editDocument('Namespace', replaced(/enforce-version: v1\.\d+/, 'enforce-version: latest')), rule: 'CHS-NS-001', says: 'enforce-version is "latest", must pin a supported minor (v1.35, v1.36, v1.37)' },
  { name: 'enforce-version of an unsupported minor', change: editDocument('Namespace', replaced(/enforce-version: v1\.\d+/, 'enforce-version: v1.29')), rule: 'CHS-NS-001', says: 'enforce-version is "v1.29"' },
  {
    name: 'warn-version removed',
    change: editDocument('Namespace', replaced(/^ {4}pod-security\.kubernetes\.io\/warn-version: .*\n/m, '')),
    rule: 'CHS-NS-001',
    says: 'warn-version is missing (PSA then applies latest',
  },
  { name: 'Namespace renamed', change: editDocument('Namespace', replaced(/^ {2}name: my-svc$/m, '  name: my-svc-old')), rule: 'CHS-NS-001', says: 'no Namespace my-svc in deploy/', floor: 'Namespace my-svc is missing' },
  { name: 'ResourceQuota removed', change: removeDocument('ResourceQuota'), rule: 'CHS-NS-002', says: 'no ResourceQuota in namespace my-svc', floor: 'ResourceQuota my-svc-quota is missing' },
  {
    name: 'quota allows NodePort Services',
    change: editDocument('ResourceQuota', replaced('services.nodeports: "0"', 'services.nodeports: "2"')),
    rule: 'CHS-NS-002',
    says: "services.nodeports 2 is above the generator's 0: the namespace then admits NodePort Services",
  },
  {
    name: 'quota no longer limits LoadBalancer Services',
    change: editDocument('ResourceQuota', replaced(/^ {4}services\.loadbalancers: "0"\n/m, '')),
    rule: 'CHS-NS-002',
    says: 'services.loadbalancers is not limited (generator: 0): the namespace then admits LoadBalancer Services',
  },
  { name: 'quota memory raised', change: editDocument('ResourceQuota', replaced(/limits\.memory: \S+/, 'limits.memory: 1Ti')), rule: 'CHS-NS-002', says: "limits.memory 1Ti is above the generator's" },
  { name: 'quota in another namespace', change: editDocument('ResourceQuota', replaced(/^ {2}namespace: my-svc$/m, '  namespace: default')), rule: 'CHS-NS-002', says: 'no ResourceQuota in namespace my-svc' },
  { name: 'LimitRange removed', change: removeDocument('LimitRange'), rule: 'CHS-NS-003', says: 'no LimitRange in namespace my-svc', floor: 'LimitRange my-svc-limits is missing' },
  {
    name: 'LimitRange defaults removed',
    change: editDocument('LimitRange', replaced(/^ {6}default:\n( {8}.*\n)+/m, '')),
    rule: 'CHS-NS-003',
    says: 'no Container default for cpu, memory, ephemeral-storage',
  },
  { name: 'LimitRange max memory raised', change: editDocument('LimitRange', replaced(/(max:\n(?: {8}.*\n)*? {8}memory: )\S+/, '$164Gi')), rule: 'CHS-NS-003', says: "Container max memory 64Gi is above the generator's" },
  {
    name: 'LimitRange max removed',
    change: editDocument('LimitRange', replaced(/^ {6}max:\n( {8}.*\n)+/m, '')),
    rule: 'CHS-NS-003',
    says: 'Container max cpu is not limited',
  },
  { name: 'default-deny NetworkPolicy removed', change: removeDocument('NetworkPolicy'), rule: 'CHS-NET-001', says: 'no default-deny NetworkPolicy', floor: 'NetworkPolicy default-deny-all is missing' },
  {
    name: 'default deny opened to all ingress',
    change: editDocument('NetworkPolicy', (doc) => `${doc.trimEnd()}\n  ingress:\n    - {}\n`),
    rule: 'CHS-NET-001',
    says: 'no default-deny NetworkPolicy',
    floor: 'NetworkPolicy default-deny-all: ingress[0] allows no `from`: every peer',
  },
];

describe('each weakening of deploy/namespace.yaml fails the right rule, in table, JSON and SARIF', () => {
  it.each(weakenings.map((w) => [w.name, w] as const))('%s', async (_name, w) => {
    const dir = await generatedService();
    const path = join(dir, NAMESPACE);
    await writeFile(path, w.change(await readFile(path, 'utf8')));
    const report = await audit(dir);
    expect(failedRules(report), JSON.stringify(report.findings, null, 2)).toEqual(w.floor ? ['CHS-FLOOR-001', w.rule].sort() : [w.rule]);
    if (w.floor) expect(report.findings.filter((f) => f.ruleId === 'CHS-FLOOR-001').map((f) => `${f.file}: ${f.message}`).join('\n')).toContain(`${NAMESPACE}: ${w.floor}`);
    const finding = report.findings.find((f) => f.ruleId === w.rule && f.message.includes(w.says));
    expect(finding, JSON.stringify(report.findings, null, 2)).toBeDefined();
    expect(finding!.file).toBe(NAMESPACE);

    expect(formatTable(report)).toContain(`FAIL ${w.rule} ${NAMESPACE}`);
    const json = JSON.parse(formatJson(report));
    expect(json.passed).toBe(false);
    expect(json.rules.find((r: { id: string }) => r.id === w.rule).status).toBe('fail');
    expect(json.findings.some((f: { ruleId: string; message: string }) => f.ruleId === w.rule && f.message.includes(w.says))).toBe(true);
    const sarif = JSON.parse(formatSarif(report));
    const result = sarif.runs[0].results.find((r: { ruleId: string; message: { text: string } }) => r.ruleId === w.rule && r.message.text.includes(w.says));
    expect(result.level).toBe('error');
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe(NAMESPACE);
    expect(sarif.runs[0].tool.driver.rules[result.ruleIndex].id).toBe(w.rule);
  });
});
