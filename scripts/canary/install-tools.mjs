#!/usr/bin/env node
// Installs the tools the canary runs itself into <dir>: helm at the version the emitted pipelines pin
// (data/ci-facts.json releases.helm) and kind (data/versions.json canary.kind). Each download is checked
// against the checksum file its release publishes, the way the emitted pipelines check theirs.
// Usage: node scripts/canary/install-tools.mjs <dir>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readData } from './data.mjs';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: install-tools.mjs <dir>');
  process.exit(2);
}

async function download(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The bytes of a release asset whose sha256 matches its line in the release's sha256sum-format file. */
async function verifiedAsset(release) {
  const [bytes, sums] = await Promise.all([download(release.asset), download(release.checksum.url)]);
  const name = basename(new URL(release.asset).pathname);
  const line = sums.toString('utf8').split('\n').find((l) => l.trim().split(/\s+\*?/)[1] === name);
  const expected = line?.trim().split(/\s+/)[0];
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (!expected || expected !== actual) throw new Error(`${name}: sha256 ${actual} is not the one ${release.checksum.url} lists (${expected ?? 'none'})`);
  return bytes;
}

const { ciFacts, versions } = readData();
mkdirSync(dir, { recursive: true });

const helm = ciFacts.releases.helm;
const work = mkdtempSync(join(tmpdir(), 'canary-tools-'));
const tarball = join(work, basename(new URL(helm.asset).pathname));
writeFileSync(tarball, await verifiedAsset(helm));
const depth = helm.archiveMember.split('/').length - 1;
execFileSync('tar', ['-xzf', tarball, `--strip-components=${depth}`, '-C', dir, helm.archiveMember]);

const kind = versions.canary.kind;
writeFileSync(join(dir, 'kind'), await verifiedAsset(kind));
chmodSync(join(dir, 'kind'), 0o755);

console.log(`helm ${helm.version} and kind ${kind.version} in ${dir}`);
