import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNAL_DIR, recoverInterruptedUpgrade } from '../lib/upgrade/apply-changes.js';
import { listTree, repoRoot, tempDir } from './support/cli.js';

const FILES = 1500;
const script = join(repoRoot, 'test', 'support', 'apply-big-change.ts');

async function makeOriginal(dir: string): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    await mkdir(join(dir, `d${i % 20}`), { recursive: true });
    await writeFile(join(dir, `d${i % 20}`, `f${i}.txt`), `old ${i}\n`);
  }
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of await listTree(dir)) files.set(path, await readFile(join(dir, path), 'utf8'));
  return files;
}

describe('an upgrade killed part-way leaves the service as it was', () => {
  it('SIGKILL at random moments of the apply: after recovery the tree is the original or the complete upgrade', async () => {
    const root = await tempDir();
    const reference = join(root, 'reference');
    await makeOriginal(reference);
    const original = await snapshot(reference);
    // One full run measures the apply and gives the complete result.
    const full = execa('node', ['--import', 'tsx', script, reference, String(FILES)], { cwd: repoRoot });
    let applyStarted = 0;
    full.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('applying')) applyStarted = Date.now();
    });
    await full;
    const applyMs = Date.now() - applyStarted;
    const upgraded = await snapshot(reference);
    expect(upgraded).not.toEqual(original);

    const outcomes = { original: 0, upgraded: 0, rolledBack: 0, cleaned: 0 };
    for (let run = 0; run < 10; run++) {
      const dir = join(root, `svc${run}`);
      await makeOriginal(dir);
      const child = execa('node', ['--import', 'tsx', script, dir, String(FILES)], { cwd: repoRoot, reject: false });
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('applying') && resolve()));
      // Every other run waits for the commit point (the journal file), so that some kills land among the
      // renames, where only a rollback restores the service; the others land anywhere, staging and the
      // journal's removal included.
      if (run % 2 === 1) while (!existsSync(join(dir, JOURNAL_DIR, 'journal.json')) && child.exitCode === null) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, Math.round((run % 2 === 1 ? applyMs / 10 : applyMs) * Math.random())));
      child.kill('SIGKILL');
      await child;
      // The next run of the generator finds the journal and rolls the half-applied upgrade back.
      const recovery = await recoverInterruptedUpgrade(dir);
      if (recovery.kind === 'rolled-back') outcomes.rolledBack++;
      if (recovery.kind === 'cleaned') outcomes.cleaned++;
      expect(existsSync(join(dir, JOURNAL_DIR))).toBe(false);
      const after = await snapshot(dir);
      if (after.size === original.size && [...original].every(([p, t]) => after.get(p) === t)) outcomes.original++;
      else {
        expect(after).toEqual(upgraded);
        // "Rolled back" is said only when files were restored: then the tree is the original.
        expect(recovery.kind === 'rolled-back' && recovery.files > 0).toBe(false);
        outcomes.upgraded++;
      }
    }
    console.info('upgrade kill outcomes', outcomes);
    expect(outcomes.original + outcomes.upgraded).toBe(10);
    // The kills landed while the upgrade was in progress, not only before or after it.
    expect(outcomes.rolledBack).toBeGreaterThan(0);
  });
});
