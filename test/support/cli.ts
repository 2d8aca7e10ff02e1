import { execa, type Options } from 'execa';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = join(repoRoot, 'bin', 'create-hardened-service.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real, compiled CLI (built by `pretest`) as a user would: no TTY, CI=true. */
export async function runCli(args: string[], options: Pick<Options, 'cwd' | 'env'> = {}): Promise<CliResult> {
  const result = await execa('node', [cliPath, ...args], { reject: false, stdin: 'ignore', cwd: options.cwd, env: { CI: 'true', ...options.env } });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export function tempDir(prefix = 'chs-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Every file below `dir` as a relative POSIX path, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

export async function readText(dir: string, path: string): Promise<string> {
  return readFile(join(dir, path), 'utf8');
}
