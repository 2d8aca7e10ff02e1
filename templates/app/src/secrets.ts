import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Secrets come from files (a Kubernetes Secret mounted read-only at SECRETS_DIR), never from environment
 * variables. Nothing here logs or puts a value into an error message.
 */

const SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * The value of secret `name` (the file `<dir>/<name>`), without the trailing newline that editors and
 * `kubectl create secret --from-file` leave. Throws SecretError (naming the file, not the value).
 */
export function readSecret(name: string, dir: string): string {
  if (!SECRET_NAME.test(name) || name.includes('..')) {
    throw new SecretError(`secret name ${JSON.stringify(name)} is not a plain file name`);
  }
  const path = join(dir, name);
  let value: string;
  try {
    value = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SecretError(
      code === 'ENOENT' ? `secret ${name} not found: expected the file ${path}` : `secret ${name}: cannot read ${path} (${code})`,
    );
  }
  return value.replace(/\r?\n$/, '');
}

/**
 * Names of the secret files in `dir` (not their values), for a start-up log line. Kubernetes' own
 * bookkeeping entries (`..data`, `..2026_…`) and other dotfiles are left out. A missing dir gives [].
 */
export function listSecrets(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => !name.startsWith('.') && SECRET_NAME.test(name))
    .filter((name) => {
      try {
        return statSync(join(dir, name)).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}
