/** CHS-MANIFEST-001: `check` reports a manifest that `upgrade` would refuse, instead of trusting it or stopping. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_PATH, type Manifest } from '../lib/manifest.js';
import { audit, checkEnv, failedRules, generatedService } from './support/check.js';
import { runCli } from './support/cli.js';

let dir: string;
let good: Manifest;

beforeAll(async () => {
  dir = await generatedService();
  good = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
});

const rule = (report: Awaited<ReturnType<typeof audit>>, id: string) => report.rules.find((r) => r.rule.id === id);

describe('CHS-MANIFEST-001', () => {
  it('passes for a fresh service, and is skipped without a manifest', async () => {
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify(good));
    expect(rule(await audit(dir), 'CHS-MANIFEST-001')?.status).toBe('pass');
    await rm(join(dir, MANIFEST_PATH));
    expect(rule(await audit(dir), 'CHS-MANIFEST-001')?.status).toBe('skip');
  });

  it.each([
    ['answers: {}', (m: Manifest) => ({ ...m, answers: {} }), 'answers.name is missing (create-hardened-service 0.1.0 records it): restore it from version control'],
    ['a path outside the service', (m: Manifest) => ({ ...m, deleted: ['../../etc/passwd'] }), 'deleted[0] is not a relative path inside the service'],
    ['a newer generator', (m: Manifest) => ({ ...m, generator: { ...m.generator, version: '9.0.0' } }), 'was written by create-hardened-service 9.0.0, newer than this one (0.1.0)'],
  ])('fails, naming the field: %s', async (_name, corrupt, says) => {
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify(corrupt(good)));
    const report = await audit(dir);
    expect(failedRules(report)).toEqual(['CHS-MANIFEST-001']);
    expect(report.findings.find((f) => f.ruleId === 'CHS-MANIFEST-001')).toMatchObject({ level: 'error', file: MANIFEST_PATH, message: expect.stringContaining(says) });
    // The generator rule does not act on a manifest that does not validate.
    expect(rule(report, 'CHS-GEN-001')).toMatchObject({ status: 'skip', note: `${MANIFEST_PATH} does not validate (CHS-MANIFEST-001)` });
  });

  it('the CLI exits 1 with the finding (not 2, not a stack trace)', async () => {
    await writeFile(join(dir, MANIFEST_PATH), JSON.stringify({ ...good, answers: { ...good.answers, port: 'eighty' } }));
    const result = await runCli(['check', dir, '--format', 'json'], { env: await checkEnv() });
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: { ruleId: string; message: string }[] };
    expect(report.findings.filter((f) => f.ruleId === 'CHS-MANIFEST-001').map((f) => f.message)).toEqual(['answers.port must be integer: restore it from version control']);
  });
});
