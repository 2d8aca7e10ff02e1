import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from './support/check.js';
import { runCli, tempDir } from './support/cli.js';
import { edit, generate, rewindToOlderGenerator } from './support/older-service.js';

/**
 * A service made before the image admission policy and the verification kit: upgrade brings deploy/image-policy.yaml
 * and verify/, the Supply chain section of SECURITY.md and the legacy signing flags, keeps the team's own edits,
 * and the upgraded service passes CHS-ADM-001. Before the upgrade, check says the policy is missing.
 */
const NEW_FILES = ['deploy/image-policy.yaml', 'verify/policy-controller.yaml', 'verify/kyverno.yaml'];
const SUPPLY_CHAIN = /## Supply chain: what is enforced where\n[\s\S]*?(?=## Scanning and updates)/;
const LEGACY_FLAGS = ' --new-bundle-format=false --use-signing-config=false';

describe('upgrade of a service made before the image admission policy', () => {
  it('adds the policy, the kit and the Supply chain section, keeps the team edits, and then passes CHS-ADM-001', async () => {
    const parent = await tempDir();
    const dir = await generate(parent, 'svc', ['--owner', 'acme']);
    await rewindToOlderGenerator(dir, (tree) => {
      for (const path of NEW_FILES) tree.delete(path);
      const older = (path: string, change: (t: string) => string) => tree.set(path, Buffer.from(change(tree.get(path)!.toString('utf8'))));
      older('SECURITY.md', (t) => t.replace(SUPPLY_CHAIN, ''));
      older('.github/workflows/container.yml', (t) => t.replace(LEGACY_FLAGS, '').replace(/^ *# Legacy signature format.*\n/m, ''));
      older('chart/README.md', (t) => t.replace(/^kubectl apply -f deploy\/image-policy\.yaml.*\n/m, ''));
    });
    for (const path of NEW_FILES) expect(existsSync(join(dir, path)), path).toBe(false);
    const before = await audit(dir);
    expect(before.findings.find((f) => f.ruleId === 'CHS-ADM-001')?.message).toContain('no ValidatingAdmissionPolicy bound to namespace svc in deploy/');

    const team = 'Security contact: security@acme.example (team edit).';
    await edit(dir, 'SECURITY.md', (t) => `${t}\n${team}\n`);
    const result = await runCli(['upgrade', dir, '--yes'], { cwd: parent });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);

    for (const path of NEW_FILES) expect(existsSync(join(dir, path)), path).toBe(true);
    const security = await readFile(join(dir, 'SECURITY.md'), 'utf8');
    expect(security).toMatch(SUPPLY_CHAIN);
    expect(security).toContain(team);
    expect(await readFile(join(dir, '.github/workflows/container.yml'), 'utf8')).toContain(`cosign sign --yes${LEGACY_FLAGS}`);
    const after = await audit(dir);
    expect(after.rules.find((r) => r.rule.id === 'CHS-ADM-001')!.status).toBe('pass');
  }, 120_000);
});
