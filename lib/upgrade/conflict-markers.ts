/** Conflict markers as git writes them, so editors and `git mergetool` recognise them. */
export const MARKERS = { ours: '<<<<<<< yours', base: '||||||| generated', sep: '=======', theirs: '>>>>>>> template' } as const;

const MARKER_LINE = new RegExp(`^(${MARKERS.ours}|${MARKERS.theirs})\\r?$`, 'm');

/** Does a file still hold a conflict block an upgrade wrote? (Markers are ASCII: any encoding reads them.) */
export function hasConflictMarkers(bytes: Buffer): boolean {
  return MARKER_LINE.test(bytes.toString('latin1'));
}
