import { describe, expect, it } from 'vitest';
import { isBinary, MARKERS, mergeThreeWay } from '../lib/upgrade/merge-file.js';
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
    expect(isBinary(Buffer.from([0xc3, 0x28]))).toBe(true);
    expect(mergeThreeWay(PNG, Buffer.concat([PNG, b('x')]), Buffer.concat([PNG, b('y')]))).toEqual({ kind: 'binary-conflict' });
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
  });
  const decisions = planUpgrade({ base, ours, theirs, deleted: new Set(['deleted-long-ago']) });
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
  ])('%s → %s', (path, action) => {
    expect(byPath[path]?.action).toBe(action);
  });

  it('records the new render as the next base, less what the template dropped, and remembers deletions', () => {
    const next = nextBase(decisions, theirs);
    expect([...next.base.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect(next.deleted).toEqual(['deleted-by-team']);
  });

  it('a file deleted in an earlier upgrade stays deleted when the template still has it', () => {
    const again = planUpgrade({ base: tree({ x: '1\n' }), ours: tree({}), theirs: tree({ x: '2\n' }), deleted: new Set(['x']) });
    expect(again).toEqual([{ path: 'x', action: 'stays-deleted' }]);
  });
});
