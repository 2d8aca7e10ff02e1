import { isUtf8 } from 'node:buffer';
import { diff3Merge } from 'node-diff3';
import { MARKERS } from './conflict-markers.js';

export type MergeResult =
  | { kind: 'clean'; bytes: Buffer }
  | { kind: 'conflict'; bytes: Buffer; conflicts: number }
  | { kind: 'binary-conflict' }
  /** The merge brings characters the team's single-byte file cannot hold. */
  | { kind: 'encoding-conflict' };

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
  const regions = diff3Merge(lines(oursText), lines(normalize(base)), lines(normalize(theirs)), { excludeFalseConflicts: true });
  const out: string[] = [];
  let conflicts = 0;
  const block = (side: string[]) => {
    out.push(...side);
    // A side that ends without a newline must not glue the next marker onto its last line.
    if (side.length > 0 && !side.at(-1)!.endsWith('\n')) out.push(eol);
  };
  for (const region of regions) {
    if ('ok' in region && region.ok) {
      out.push(...region.ok);
      continue;
    }
    const c = region.conflict!;
    conflicts++;
    out.push(`${MARKERS.ours}${eol}`);
    block(c.a);
    out.push(`${MARKERS.base}${eol}`);
    block(c.o);
    out.push(`${MARKERS.sep}${eol}`);
    block(c.b);
    out.push(`${MARKERS.theirs}${eol}`);
  }
  const text = out.join('');
  if (encoding === 'latin1' && /[^\u0000-\u00ff]/.test(text)) return { kind: 'encoding-conflict' };
  const bytes = Buffer.from(text, encoding);
  return conflicts ? { kind: 'conflict', bytes, conflicts } : { kind: 'clean', bytes };
}
