/** A rendered service held in memory: relative POSIX path → bytes. Every command works on these. */
export type FileTree = Map<string, Buffer>;

/**
 * Orders paths by UTF-16 code units, as sortedPaths does. Not localeCompare: its order depends on the
 * machine's locale, and its first call loads ICU's collation data (about 10 ms of a 200 ms generation).
 */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedPaths(tree: FileTree): string[] {
  return [...tree.keys()].sort(comparePaths);
}
