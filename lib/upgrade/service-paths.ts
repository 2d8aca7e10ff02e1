/**
 * Paths that come from the team's repository (the manifest's base, deleted list and conflicts, the upgrade
 * journal) decide where an upgrade writes and deletes: each must be a plain relative path inside the service.
 * data/manifest.schema.json states the same rule as a pattern (#/definitions/path).
 */
/** Bounds on a recorded path (the schema states them too): a generated service's deepest path is a few folders. */
export const MAX_PATH_LENGTH = 1024;
export const MAX_PATH_SEGMENTS = 32;

export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.includes('\\')) return 'has a backslash';
  if (path.includes('\0')) return 'has a NUL byte';
  const segments = path.split('/');
  if (segments.includes('..')) return 'climbs out of the service with ..';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or . segment';
  if (segments.length > MAX_PATH_SEGMENTS) return `is nested deeper than ${MAX_PATH_SEGMENTS} segments`;
  return undefined;
}
