import type { FileTree } from '../core/file-tree.js';
import { sha256 } from './manifest.js';
import { hasConflictMarkers } from './upgrade/conflict-markers.js';
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

/**
 * Conflicts an earlier upgrade recorded (path → sha256 of what it left there) that the team has not resolved:
 * the file still holds conflict markers, or is still exactly as the upgrade left it (a binary file kept as
 * the team's, with the template's change not applied). A service with any is behind.
 */
export function unresolvedConflicts(recorded: Record<string, string> | undefined, ours: FileTree): string[] {
  return Object.entries(recorded ?? {})
    .filter(([path, sha]) => {
      const bytes = ours.get(path);
      return bytes !== undefined && (sha256(bytes) === sha || hasConflictMarkers(bytes));
    })
    .map(([path]) => path);
}
