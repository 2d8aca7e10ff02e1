// Wall time of one whole non-interactive generation process, against create-vite (non-interactive, with a
// template) and against a bare `node -e ""`: run alternately (ours, create-vite, bare, ours, ...) so that
// background load hits all three alike; medians. All on one Node binary: by default the one running the bench.
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { stealMeter } from './isolation.mjs';
import { median, repoRoot, tempDir, timed } from './support.mjs';

export function measureGeneration({ bin, rounds, deadline, node = process.execPath }) {
  const work = tempDir('generation');
  const viteBin = join(repoRoot, 'node_modules', 'create-vite', 'index.js');
  const env = { CI: 'true' };
  const subjects = {
    ours: (i) => [node, [bin, join(work, `svc-${i}`), '--yes']],
    oursHelp: () => [node, [bin, '--help']],
    createVite: (i) => [node, [viteBin, join(work, `vite-${i}`), '--template', 'vanilla-ts', '--no-interactive', '--no-immediate']],
    bareNode: () => [node, ['-e', '']],
  };
  const times = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
  const steal = stealMeter();
  const loadBefore = loadavg()[0];
  // Two warm-up rounds (page cache, npm's first-run costs) are not counted.
  for (let i = -2; i < rounds && Date.now() < deadline; i++) {
    for (const [name, argv] of Object.entries(subjects)) {
      const [cmd, args] = argv(i + 2);
      const { ms } = timed(cmd, args, { env, cwd: work, timeoutMs: 30_000 });
      if (i >= 0) times[name].push(ms);
    }
    // Keep the disk footprint flat: each run writes into a fresh directory, removed right after.
    for (const p of [`svc-${i + 2}`, `vite-${i + 2}`]) rmSync(join(work, p), { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  return {
    node: timed(node, ['--version']).stdout.trim(),
    runs: times.ours.length,
    medianMs: med,
    samplesMs: times,
    ratioToCreateVite: med.ours / med.createVite,
    ratioToBareNode: med.ours / med.bareNode,
    // What else ran: the 1-minute load average before and after, and the CPU time the hypervisor stole.
    loadAverage: [loadBefore, loadavg()[0]].map((l) => Math.round(l * 10) / 10),
    stealShare: steal(),
  };
}
