import { isUtf8 } from 'node:buffer';
import { diff3MergeRegions } from 'node-diff3';
import { MARKERS } from './conflict-markers.js';

type MergeRegion = { stable: true; bufferContent: string[] } | { stable: false; aContent: string[]; oContent: string[]; bContent: string[] };

export type MergeResult =
  | { kind: 'clean'; bytes: Buffer }
  | { kind: 'conflict'; bytes: Buffer; conflicts: number }
  | { kind: 'binary-conflict' }
  /** The merge brings characters the team's single-byte file cannot hold. */
  | { kind: 'encoding-conflict' }
  /** Sides too long to compare in bounded time (MAX_MERGE_LINE_PAIRS): kept yours. */
  | { kind: 'too-large-conflict' };

/**
 * The diff's cost grows with the product of the two sides' line counts: at most two 20,000-line sides are compared
 * (a few seconds on a loaded machine). Generated files are a few hundred lines; a larger pair is a conflict, kept yours.
 */
export const MAX_MERGE_LINE_PAIRS = 20_000 * 20_000;

/** git's rule: a NUL byte in the first 8000 bytes makes a file binary, merged as a whole or not at all. */
export function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

/**
 * Text that is not UTF-8 is taken as a single-byte encoding (Latin-1, Windows-1252: what teams' editors
 * write besides UTF-8). Node's latin1 maps every byte to one character and back, so such a file round-trips
 * byte for byte.
 */
function encodingOf(bytes: Buffer): 'utf8' | 'latin1' {
  return isUtf8(bytes) ? 'utf8' : 'latin1';
}

const decode = (bytes: Buffer) => bytes.toString(encodingOf(bytes));

function lineEnding(text: string): '\r\n' | '\n' {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  return crlf > lf ? '\r\n' : '\n';
}

/** Lines with their endings kept, so a merge reproduces the file byte for byte where nothing changed. */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((l) => l !== '');
}

/**
 * Three-way merge of one file: base = what the generator wrote, ours = the team's file, theirs = the new
 * render. The generator's sides are converted to the team's line endings and encoding first, so a team
 * that switched a file to CRLF or Latin-1 does not get a conflict on every line. Conflicts are written
 * inline with diff3-style markers (never .rej files).
 */
export function mergeThreeWay(base: Buffer, ours: Buffer, theirs: Buffer): MergeResult {
  if (isBinary(base) || isBinary(ours) || isBinary(theirs)) return { kind: 'binary-conflict' };
  const encoding = encodingOf(ours);
  const oursText = ours.toString(encoding);
  const eol = lineEnding(oursText);
  const normalize = (b: Buffer) => decode(b).replace(/\r?\n/g, eol);
  // diff3MergeRegions, not diff3Merge: the latter spreads a whole region into push(), which overflows the stack on a
  // hunk of ~120k lines. Every copy here is a loop, so a merge's depth never grows with the file.
  const [a, o, b] = [lines(oursText), lines(normalize(base)), lines(normalize(theirs))];
  if (o.length * Math.max(a.length, b.length) > MAX_MERGE_LINE_PAIRS) return { kind: 'too-large-conflict' };
  const regions = diff3MergeRegions(a, o, b) as MergeRegion[];
  const out: string[] = [];
  let conflicts = 0;
  const append = (side: readonly string[]) => {
    for (const line of side) out.push(line);
  };
  const block = (side: readonly string[]) => {
    append(side);
    // A side that ends without a newline must not glue the next marker onto its last line.
    if (side.length > 0 && !side.at(-1)!.endsWith('\n')) out.push(eol);
  };
  for (const region of regions) {
    if (region.stable) {
      append(region.bufferContent);
      continue;
    }
    const { aContent: a, oContent: o, bContent: b } = region;
    // Both sides made the same change: not a conflict (diff3Merge's excludeFalseConflicts).
    if (a.length === b.length && a.every((line, i) => line === b[i])) {
      append(a);
      continue;
    }
    conflicts++;
    out.push(`${MARKERS.ours}${eol}`);
    block(a);
    out.push(`${MARKERS.base}${eol}`);
    block(o);
    out.push(`${MARKERS.sep}${eol}`);
    block(b);
    out.push(`${MARKERS.theirs}${eol}`);
  }
  const text = out.join('');
  if (encoding === 'latin1' && /[^\u0000-\u00ff]/.test(text)) return { kind: 'encoding-conflict' };
  const bytes = Buffer.from(text, encoding);
  return conflicts ? { kind: 'conflict', bytes, conflicts } : { kind: 'clean', bytes };
}
