/**
 * The other Node lines the generator offers (--node-version): each framework's service, rendered for that
 * line, installs with `npm ci` from its composed lockfile, typechecks, passes its own tests, builds, and
 * serves until SIGTERM, all on that line's Node (installed into .tools/ by scripts/install-test-tools.mjs).
 * The default line (26) gets the fuller treatment, sandbox included, in app-service.e2e.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { renderService } from '../lib/render-service.js';
import { versions } from '../core/versions.js';
import { answersFor } from './support/answers.js';
import { envFor, nodeBinary, npm } from './support/node-lines.js';

const otherLines = versions.node.lines.map((l) => l.major).filter((major) => major !== versions.node.defaultMajor);
const tempDirs: string[] = [];
afterAll(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/** Starts the built service on a free port; resolves once /readyz answers 200 (bounded), then SIGTERMs it. */
async function serveOnce(svc: string, major: number): Promise<{ readyz: number; healthz: number; exitCode: number | null }> {
  const child = spawn(nodeBinary(major), ['dist/server.js'], {
    cwd: svc,
    env: { ...envFor(major), PORT: '0', HOST: '127.0.0.1', SECRETS_DIR: svc, SHUTDOWN_DELAY_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let port = 0;
    for (const deadline = Date.now() + 15_000; port === 0; await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not listening within 15 s:\n${out}`);
      port = Number(/"port":(\d+)/.exec(out)?.[1] ?? 0);
    }
    const readyz = await status(port, '/readyz');
    const healthz = await status(port, '/healthz');
    child.kill('SIGTERM');
    const exitCode = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    return { readyz, healthz, exitCode };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('emitted service on the other Node lines', () => {
  it('every Node line the generator offers has its Node installed for the tests', async () => {
    for (const { major } of versions.node.lines) {
      const { stdout } = await execa(nodeBinary(major), ['--version']);
      expect(stdout, `line ${major}`).toMatch(new RegExp(`^v${major}\\.`));
    }
  });

  describe.concurrent.each(otherLines.flatMap((major) => (['fastify', 'express'] as const).map((framework) => ({ major, framework }))))(
    'Node $major, $framework',
    ({ major, framework }) => {
      it('npm ci, typecheck, its own tests, build, serve and drain on SIGTERM', async () => {
        const root = await mkdtemp(join(tmpdir(), `chs-e2e-node${major}-${framework}-`));
        tempDirs.push(root);
        const svc = join(root, 'svc');
        const answers = await answersFor('lines-svc', { framework, nodeVersion: String(major) });
        for (const [path, bytes] of await renderService(answers)) {
          await mkdir(dirname(join(svc, path)), { recursive: true });
          await writeFile(join(svc, path), bytes);
        }
        // engine-strict (the service's .npmrc) makes npm refuse a Node outside package.json's engines.
        await npm(['ci'], svc, 300_000, major);
        await npm(['run', 'typecheck'], svc, 120_000, major);
        const tests = await npm(['test'], svc, 120_000, major);
        // Node 22 reports in TAP when stdout is not a terminal (# pass), later lines always in spec (ℹ pass).
        expect(tests.all).toMatch(/^[ℹ#] fail 0$/m);
        expect(tests.all).toMatch(/^[ℹ#] pass [1-9]\d*$/m);
        await npm(['run', 'build'], svc, 120_000, major);
        expect(await serveOnce(svc, major)).toEqual({ readyz: 200, healthz: 200, exitCode: 0 });
      }, 600_000);
    },
  );
});
