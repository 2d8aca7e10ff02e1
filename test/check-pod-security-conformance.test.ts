import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { supportedKubernetesMinors } from '../lib/check/kubernetes-api.js';
import { checkPodSecurity, type PodSecurityLevel, podSecurityControls } from '../lib/policy/pod-security.js';

// Upstream conformance: every pod of kubernetes/pod-security-admission's own fixtures (vendored under
// test/fixtures/pod-security-admission, see SOURCE.md there) for every minor `check --kube-version` accepts,
// at both levels. A pod in pass/ must give no finding; a pod in fail/ must be rejected, by the check its file
// is named after (or, at restricted, by the restricted check that replaces it there).

const root = fileURLToPath(new URL('fixtures/pod-security-admission', import.meta.url));
const levels: PodSecurityLevel[] = ['baseline', 'restricted'];
const controlIds = new Map(podSecurityControls.map((c) => [c.id.toLowerCase(), c.id]));
/** At restricted PSA replaces these baseline checks with a stricter one (OverrideCheckIDs). */
const replacedAtRestricted: Record<string, string> = {
  hostPathVolumes: 'restrictedVolumes',
  capabilities_baseline: 'capabilities_restricted',
  seccompProfile_baseline: 'seccompProfile_restricted',
  procMount: 'procMount_restricted',
};

const counts: string[] = [];
afterAll(() => console.log(`Pod Security Admission fixtures agreed with:\n${counts.join('\n')}`));

describe('vendored fixtures', () => {
  it('are exactly the supported minors', () => {
    for (const level of levels) expect(readdirSync(join(root, level)).sort()).toEqual(supportedKubernetesMinors.map((m) => `v${m}`));
  });
});

describe.each(supportedKubernetesMinors.flatMap((minor) => levels.map((level) => [minor, level] as const)))('Kubernetes %s, %s', (minor, level) => {
  const dir = (outcome: string) => join(root, level, `v${minor}`, outcome);
  const pods = (outcome: string) => readdirSync(dir(outcome)).sort().map((f) => ({ file: f, pod: parse(readFileSync(join(dir(outcome), f), 'utf8')) }));

  it('agrees on every pod (100%)', () => {
    const pass = pods('pass');
    const fail = pods('fail');
    const disagreements: string[] = [];
    for (const { file, pod } of pass) {
      const findings = checkPodSecurity(pod, level, `v${minor}`);
      if (findings.length) disagreements.push(`pass/${file}: rejected by ${findings.map((f) => f.control).join(', ')}`);
    }
    for (const { file, pod } of fail) {
      const controls = new Set(checkPodSecurity(pod, level, `v${minor}`).map((f) => f.control));
      const named = controlIds.get(file.replace(/\d+\.yaml$/, ''));
      if (!named) disagreements.push(`fail/${file}: names no known check`);
      else {
        const expected = level === 'restricted' ? (replacedAtRestricted[named] ?? named) : named;
        if (!controls.has(expected)) disagreements.push(`fail/${file}: not rejected by ${expected} (got ${[...controls].join(', ') || 'nothing'})`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(pass.length).toBeGreaterThan(10);
    expect(fail.length).toBeGreaterThan(30);
    counts.push(`  ${minor} ${level.padEnd(10)} ${pass.length} pass + ${fail.length} fail = ${pass.length + fail.length} pods, 100%`);
  });
});
