/** A rendered service held in memory: relative POSIX path → bytes. Every command works on these. */
export type FileTree = Map<string, Buffer>;

export function sortedPaths(tree: FileTree): string[] {
  return [...tree.keys()].sort();
}
