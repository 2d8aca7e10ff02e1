import { describe, expect, it } from 'vitest';
import { MARKERS } from '../lib/upgrade/conflict-markers.js';
import { findRename, similarity } from '../lib/upgrade/detect-renames.js';
import { isBinary, mergeThreeWay } from '../lib/upgrade/merge-file.js';
import { sha256 } from '../lib/manifest.js';
import { nextBase, planUpgrade } from '../lib/upgrade/plan-upgrade.js';

const b = (s: string) => Buffer.from(s);
const tree = (entries: Record<string, string | Buffer>) => new Map(Object.entries(entries).map(([p, v]) => [p, Buffer.isBuffer(v) ? v : b(v)]));
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);

describe('mergeThreeWay', () => {
  it('merges changes to different lines cleanly', () => {
    const r = mergeThreeWay(b('a\nb\nc\nd\n'), b('A\nb\nc\nd\n'), b('a\nb\nc\nD\n'));
    expect(r).toEqual({ kind: 'clean', bytes: b('A\nb\nc\nD\n') });
  });

  it('writes diff3 markers around a conflict, with the base between', () => {
    const r = mergeThreeWay(b('a\nb\nc\n'), b('a\nX\nc\n'), b('a\nY\nc\n'));
    expect(r.kind).toBe('conflict');
    expect(r.kind === 'conflict' && r.bytes.toString()).toBe(`a\n${MARKERS.ours}\nX\n${MARKERS.base}\nb\n${MARKERS.sep}\nY\n${MARKERS.theirs}\nc\n`);
  });

  it('merges a single hunk of 200,000 lines, clean and in conflict (no recursion or spread on the hunk size)', () => {
    // diff3Merge spread a whole region into push(): "Maximum call stack size exceeded" past ~120k lines.
    const big = Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join('');
    const clean = mergeThreeWay(b('a\nb\nc\n'), b('a\nb\nc\n'), b(`a\n${big}c\n`));
    expect(clean.kind === 'clean' && clean.bytes.length).toBe(`a\n${big}c\n`.length);
    const conflict = mergeThreeWay(b('a\nb\nc\n'), b('a\nX\nc\n'), b(`a\n${big}c\n`));
    expect(conflict.kind === 'conflict' && conflict.conflicts).toBe(1);
  });

  it('bounds the comparison: two sides past 20,000 × 20,000 lines are a conflict, kept yours, at once', () => {
    const big = Array.from({ length: 30_000 }, (_, i) => `line ${i}\n`).join('');
    const started = Date.now();
    expect(mergeThreeWay(b(`a\n${big}c\n`), b(`a\n${big}c\nteam\n`), b(`A\n${big}c\n`))).toEqual({ kind: 'too-large-conflict' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const small = Array.from({ length: 5_000 }, (_, i) => `line ${i}\n`).join('');
    const merged = mergeThreeWay(b(`a\n${small}c\n`), b(`a\n${small}c\nteam\n`), b(`A\n${small}c\n`));
    expect(merged.kind === 'clean' && merged.bytes.toString()).toBe(`A\n${small}c\nteam\n`);
  });

  it('takes identical changes on both sides without a conflict', () => {
    expect(mergeThreeWay(b('a\nb\n'), b('a\nB\n'), b('a\nB\n'))).toEqual({ kind: 'clean', bytes: b('a\nB\n') });
  });

  it('keeps a missing final newline and never glues a marker to a line', () => {
    const r = mergeThreeWay(b('a\nb'), b('a\nX'), b('a\nY'));
    expect(r.kind === 'conflict' && r.bytes.toString()).toBe(`a\n${MARKERS.ours}\nX\n${MARKERS.base}\nb\n${MARKERS.sep}\nY\n${MARKERS.theirs}\n`);
    expect(mergeThreeWay(b('a\nb'), b('A\nb'), b('a\nb'))).toEqual({ kind: 'clean', bytes: b('A\nb') });
  });

  it("merges in the team's line endings when the team switched a file to CRLF", () => {
    const r = mergeThreeWay(b('a\nb\nc\n'), b('A\r\nb\r\nc\r\n'), b('a\nb\nC\n'));
    expect(r).toEqual({ kind: 'clean', bytes: b('A\r\nb\r\nC\r\n') });
  });

  it('never merges binary files line by line', () => {
    expect(isBinary(PNG)).toBe(true);
    expect(isBinary(b('plain ✓ text\n'))).toBe(false);
    expect(mergeThreeWay(PNG, Buffer.concat([PNG, b('x')]), Buffer.concat([PNG, b('y')]))).toEqual({ kind: 'binary-conflict' });
  });

  it("a Latin-1 file is text: merged, and written back in the team's encoding", () => {
    const latin1 = (s: string) => Buffer.from(s, 'latin1');
    expect(isBinary(latin1('Grüße aus Köln\n'))).toBe(false);
    const r = mergeThreeWay(b('a\nb\nc\n'), latin1('a\n# Zuständig: Süd\nb\nc\n'), b('a\nb\nC ©\n'));
    expect(r).toEqual({ kind: 'clean', bytes: latin1('a\n# Zuständig: Süd\nb\nC ©\n') });
    // A conflict block in a Latin-1 file stays Latin-1.
    const c = mergeThreeWay(b('a\nb\n'), latin1('a\nbé\n'), b('a\nB\n'));
    expect(c.kind === 'conflict' && c.bytes.equals(latin1(`a\n${MARKERS.ours}\nbé\n${MARKERS.base}\nb\n${MARKERS.sep}\nB\n${MARKERS.theirs}\n`))).toBe(true);
  });

  it('the template bringing characters a Latin-1 file cannot hold is a conflict, not mojibake', () => {
    const r = mergeThreeWay(b('a\nb\n'), Buffer.from('a\nb\n# Süd\n', 'latin1'), b('a ✓\nb\n'));
    expect(r).toEqual({ kind: 'encoding-conflict' });
  });
});

describe('planUpgrade: every case of base / yours / template', () => {
  const base = tree({
    same: 'same\n',
    'template-changed': 'v1\n',
    'team-changed': 'v1\n',
    both: 'a\nb\nc\n',
    conflict: 'a\nb\nc\n',
    'deleted-by-team': 'x\n',
    dropped: 'old\n',
    'dropped-edited': 'old\n',
    'logo.png': PNG,
    'package-lock.json': '{"lockfileVersion":3}\n',
    'left-unresolved': 'a\nb\n',
  });
  const ours = tree({
    same: 'same\n',
    'template-changed': 'v1\n',
    'team-changed': 'mine\n',
    both: 'A\nb\nc\n',
    conflict: 'a\nX\nc\n',
    dropped: 'old\n',
    'dropped-edited': 'old, edited\n',
    'logo.png': Buffer.concat([PNG, b('team')]),
    'package-lock.json': '{"lockfileVersion":3,"team":true}\n',
    'new-file': 'team made it\n',
    'app/package-lock.json': '{"lockfileVersion":3,"team":true}\n',
    'left-unresolved': `a\n${MARKERS.ours}\nX\n${MARKERS.base}\nb\n${MARKERS.sep}\nY\n${MARKERS.theirs}\n`,
  });
  const theirs = tree({
    same: 'same\n',
    'template-changed': 'v2\n',
    'team-changed': 'v1\n',
    both: 'a\nb\nC\n',
    conflict: 'a\nY\nc\n',
    'deleted-by-team': 'x2\n',
    'logo.png': Buffer.concat([PNG, b('template')]),
    'package-lock.json': '{"lockfileVersion":3,"template":true}\n',
    added: 'new\n',
    'new-file': 'template made it\n',
    'app/package-lock.json': '{"lockfileVersion":3,"template":true}\n',
    'left-unresolved': 'a\nZ\n',
  });
  const decisions = planUpgrade({ base, ours, theirs, deleted: new Set(['deleted-long-ago']), unresolved: new Set(['left-unresolved']) });
  const byPath = Object.fromEntries(decisions.map((d) => [d.path, d]));

  it.each([
    ['same', 'unchanged'],
    ['template-changed', 'update'],
    ['team-changed', 'keep-yours'],
    ['both', 'merged'],
    ['conflict', 'conflict'],
    ['deleted-by-team', 'stays-deleted'],
    ['deleted-long-ago', 'unchanged'],
    ['dropped', 'remove'],
    ['dropped-edited', 'keep-dropped'],
    ['logo.png', 'binary-conflict'],
    ['package-lock.json', 'keep-yours-lockfile'],
    ['added', 'add'],
    ['new-file', 'conflict'],
    // A lockfile the team committed before the generator wrote one is theirs, never wrapped in markers.
    ['app/package-lock.json', 'keep-yours-lockfile'],
    // Nothing is merged into a file that still holds the last upgrade's conflict.
    ['left-unresolved', 'unresolved'],
  ])('%s → %s', (path, action) => {
    expect(byPath[path]?.action).toBe(action);
  });

  it('records the new render as the next base, less what the template dropped, and remembers deletions and conflicts', () => {
    const next = nextBase(decisions, { base, ours, theirs });
    expect([...next.base.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect(next.deleted).toEqual(['deleted-by-team']);
    // Each conflict with the hash of what the upgrade left: the file with markers, or the team's file kept.
    expect(next.conflicts).toEqual({
      conflict: sha256((byPath.conflict as { bytes: Buffer }).bytes),
      'left-unresolved': sha256(ours.get('left-unresolved')!),
      'logo.png': sha256(ours.get('logo.png')!),
      'new-file': sha256((byPath['new-file'] as { bytes: Buffer }).bytes),
    });
  });

  it('a file deleted in an earlier upgrade stays deleted when the template still has it', () => {
    const again = planUpgrade({ base: tree({ x: '1\n' }), ours: tree({}), theirs: tree({ x: '2\n' }), deleted: new Set(['x']) });
    expect(again).toEqual([{ path: 'x', action: 'stays-deleted' }]);
  });
});

describe('findRename: where a generated file the team no longer has went', () => {
  const original = b(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n'));
  const edited = (n: number) => b(Array.from({ length: 20 }, (_, i) => (i < n ? `team ${i}` : `line ${i}`)).join('\n'));

  it('scores the lines two files share', () => {
    expect(similarity(original, original)).toBe(1);
    expect(similarity(original, b('other\ntext\n'))).toBe(0);
    expect(similarity(original, edited(5))).toBe(0.75);
  });

  it('one file clearly like it, with the same extension: renamed', () => {
    expect(findRename('src/app.ts', original, tree({ 'src/http-app.ts': edited(4), 'src/other.ts': edited(14), 'src/app.js': original }))).toEqual({ kind: 'renamed', to: 'src/http-app.ts' });
  });

  it('several files like it, or only a faint likeness: unsure, with the candidates', () => {
    expect(findRename('src/app.ts', original, tree({ 'src/a.ts': edited(2), 'src/b.ts': edited(3) }))).toEqual({ kind: 'unsure', candidates: ['src/a.ts', 'src/b.ts'] });
    expect(findRename('src/app.ts', original, tree({ 'src/a.ts': edited(10) }))).toEqual({ kind: 'unsure', candidates: ['src/a.ts'] });
  });

  it('nothing like it: deleted', () => {
    expect(findRename('src/app.ts', original, tree({ 'src/a.ts': edited(15), 'README.md': original }))).toEqual({ kind: 'none' });
  });
});
