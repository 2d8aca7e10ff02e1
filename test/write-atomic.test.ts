import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTree, repoRoot, runCli, tempDir } from './support/cli.js';

const FILES = 2000;

/** Starts `command`, kills it with SIGKILL `delayMs` after it starts (or after it prints `mark`), and waits for it to be gone. */
async function killAfter(command: string, args: string[], delayMs: number, mark?: string): Promise<void> {
  const child = execa(command, args, { reject: false, cwd: repoRoot, env: { CI: 'true' } });
  if (mark) await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes(mark) && resolve()));
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await child;
}

describe('a generation killed part-way never leaves a half-written target', () => {
  it('SIGKILL at random moments of a large write: the target is absent or complete', async () => {
    const parent = await tempDir();
    const script = join(repoRoot, 'test', 'support', 'write-big-tree.ts');
    // One process (tsx's CLI would fork a child that outlives the SIGKILL).
    const node = (args: string[]) => ['--import', 'tsx', script, ...args];
    // One full run measures how long the write itself takes (from the child's "writing" to "done").
    const full = execa('node', node([join(parent, 'full'), String(FILES)]), { cwd: repoRoot });
    let writeStarted = 0;
    full.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('writing')) writeStarted = Date.now();
    });
    await full;
    const total = Date.now() - writeStarted;
    expect(await listTree(join(parent, 'full'))).toHaveLength(FILES);

    const outcomes = { absent: 0, midWrite: 0, complete: 0 };
    for (let run = 0; run < 12; run++) {
      const target = join(parent, `t${run}`);
      await killAfter('node', node([target, String(FILES)]), Math.round(total * Math.random()), 'writing');
      if (!existsSync(target)) {
        const staged = (await readdir(parent)).some((e) => e.startsWith(`.create-hardened-service-t${run}-`));
        if (staged) outcomes.midWrite++;
        else outcomes.absent++;
        continue;
      }
      expect(await listTree(target)).toHaveLength(FILES);
      outcomes.complete++;
    }
    console.info('kill outcomes', outcomes);
    expect(outcomes.absent + outcomes.midWrite + outcomes.complete).toBe(12);
    // The kills did land inside the write (a staging folder was there), not only before or after it.
    expect(outcomes.midWrite).toBeGreaterThan(0);
    // Killed runs may leave hidden staging folders, never a visible partial target.
    const visible = (await readdir(parent)).filter((e) => !e.startsWith('.'));
    for (const name of visible) expect(name).toMatch(/^(full|t\d+)$/);
    // The next run for the same target removes the staging folders that killed runs left behind.
    for (let run = 0; run < 12; run++) {
      const target = join(parent, `t${run}`);
      if (!existsSync(target)) await execa('node', node([target, '10']), { cwd: repoRoot });
    }
    expect((await readdir(parent)).filter((e) => e.startsWith('.create-hardened-service-'))).toEqual([]);
  });

  it('SIGKILL at random moments of a real CLI run: the service is absent or every file is there', async () => {
    const parent = await tempDir();
    const reference = await runCli(['ref'], { cwd: parent });
    expect(reference.exitCode).toBe(0);
    const expected = await listTree(join(parent, 'ref'));
    const started = Date.now();
    await runCli(['timing'], { cwd: parent });
    const total = Date.now() - started;
    for (let run = 0; run < 8; run++) {
      const target = join(parent, `svc${run}`);
      await killAfter('node', [join(repoRoot, 'bin', 'create-hardened-service.js'), target], Math.round(total * (0.5 + Math.random() * 0.6)));
      if (existsSync(target)) expect(await listTree(target)).toEqual(expected);
    }
  });
});
