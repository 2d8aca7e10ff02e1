import { diff3Merge } from 'node-diff3';

/** Conflict markers as git writes them, so editors and `git mergetool` recognise them. */
export const MARKERS = { ours: '<<<<<<< yours', base: '||||||| generated', sep: '=======', theirs: '>>>>>>> template' } as const;

export type MergeResult =
  | { kind: 'clean'; bytes: Buffer }
  | { kind: 'conflict'; bytes: Buffer; conflicts: number }
  | { kind: 'binary-conflict' };

/** A file that is not valid UTF-8 text, or holds a NUL byte, is merged as a whole or not at all. */
export function isBinary(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  return !Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

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
 * render. The generator's sides are converted to the team's line endings first, so a team that
 * switched a file to CRLF does not get a conflict on every line. Conflicts are written inline with
 * diff3-style markers (never .rej files).
 */
export function mergeThreeWay(base: Buffer, ours: Buffer, theirs: Buffer): MergeResult {
  if (isBinary(base) || isBinary(ours) || isBinary(theirs)) return { kind: 'binary-conflict' };
  const oursText = ours.toString('utf8');
  const eol = lineEnding(oursText);
  const normalize = (b: Buffer) => b.toString('utf8').replace(/\r?\n/g, eol);
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
  const bytes = Buffer.from(out.join(''), 'utf8');
  return conflicts ? { kind: 'conflict', bytes, conflicts } : { kind: 'clean', bytes };
}
