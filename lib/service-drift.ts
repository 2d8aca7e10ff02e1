import type { FileTree } from './file-tree.js';
import { compareVersions } from './upgrade/versions-compare.js';

/**
 * Is a service behind this generator? Yes when an older generator made it, or when this generator, given the
 * same answers, renders anything other than what was last written (the manifest's base): templates moved even
 * though the version did not. `upgrade --check` and `check` (CHS-GEN-001) both ask this.
 */
export function isBehindGenerator(recordedVersion: string, currentVersion: string, base: FileTree, current: FileTree): boolean {
  if (compareVersions(recordedVersion, currentVersion) < 0) return true;
  return [...new Set([...base.keys(), ...current.keys()])].some((p) => !current.has(p) || !base.get(p)?.equals(current.get(p)!));
}
