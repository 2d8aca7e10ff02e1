/**
 * mergeThreeWay against `git merge-file --diff3` as the reference: a few hundred seeded, randomized merges of
 * source-like files, edited the way teams and template changes edit them. Same seed, same cases, every run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeThreeWay } from '../lib/upgrade/merge-file.js';

const CASES = 300;
const SEED = 20261127;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its number. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A file shaped like source: distinct lines, and in every other case also the braces and blank lines that
 * real files repeat (where the line to align with is ambiguous, and diff algorithms may pick differently).
 */
function sourceFile(next: () => number, repeats: boolean): string[] {
  const length = 5 + Math.floor(next() * 40);
  return Array.from({ length }, (_, i) => (repeats && next() < 0.15 ? ['}', '', '  end'][Math.floor(next() * 3)]! : `  const v${i} = ${Math.floor(next() * 1e6)};`));
}

/** One to three edits: new lines, changed lines, deleted lines, as a team or a template change makes them. */
function edit(lines: string[], who: string, next: () => number): string[] {
  const out = [...lines];
  for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
    const at = Math.floor(next() * (out.length + 1));
    const kind = next();
    if (kind < 0.4) out.splice(at, 0, `  // ${who} ${Math.floor(next() * 1000)}`);
    else if (kind < 0.6) out.splice(at, 1 + Math.floor(next() * 2));
    else if (at < out.length) out[at] = `${out[at]} // ${who}`;
  }
  return out;
}

describe('mergeThreeWay agrees with git merge-file', () => {
  it(`${CASES} seeded random merges: the same bytes where lines are distinct, never clean where git conflicts, no line of the team's lost`, () => {
    execFileSync('git', ['--version']);
    const dir = mkdtempSync(join(tmpdir(), 'chs-merge-'));
    const next = random(SEED);
    let conflicts = 0;
    let identical = 0;
    for (let n = 0; n < CASES; n++) {
      const eof = next() < 0.8 ? '\n' : '';
      const text = (lines: string[]) => (lines.length ? lines.join('\n') + eof : '');
      const base = sourceFile(next, n % 2 === 1);
      const ours = edit(base, 'team', next);
      const theirs = edit(base, 'template', next);
      for (const [name, lines] of [['ours', ours], ['base', base], ['theirs', theirs]] as const) writeFileSync(join(dir, name), text(lines));
      const git = spawnSync('git', ['merge-file', '-p', '--diff3', '-L', 'yours', '-L', 'generated', '-L', 'template', 'ours', 'base', 'theirs'], { cwd: dir });
      const result = mergeThreeWay(Buffer.from(text(base)), Buffer.from(text(ours)), Buffer.from(text(theirs)));
      const label = `case ${n} (seed ${SEED})`;
      if (!('bytes' in result)) throw new Error(`${label}: ${result.kind}`);
      const same = result.bytes.toString() === git.stdout.toString();
      if (same) identical++;
      if (new Set(base).size === base.length || (result.kind === 'clean' && git.status === 0)) {
        expect(result.bytes.toString(), label).toBe(git.stdout.toString());
        expect(result.kind === 'conflict' ? result.conflicts : 0, label).toBe(git.status);
      }
      // Where git sees a conflict, a merge that passes silently would be wrong.
      if (git.status !== 0) expect(result.kind, label).toBe('conflict');
      const merged = result.bytes.toString().split('\n');
      for (const line of ours.filter((l) => !base.includes(l))) expect(merged, label).toContain(line);
      if (result.kind === 'conflict') conflicts++;
    }
    // Repeated lines may align differently (both merges are valid), but rarely.
    expect(identical / CASES).toBeGreaterThanOrEqual(0.98);
    // The cases exercise both outcomes.
    expect(conflicts).toBeGreaterThan(CASES / 10);
    expect(conflicts).toBeLessThan(CASES * 0.9);
  });
});
