#!/usr/bin/env node
// Installs the Kubernetes schema packages that `check` bundles (schema-packages/: kubernetes-models and the
// Prometheus operator's models, pinned with their own lockfile) and links them into node_modules/, where the
// sources, the tests and the build resolve them as usual.
//
// Why on their own: they declare Node >= 22 (Node 20 reached its end of life), while the generator supports
// Node >= 20.19 and its tests run the bundled `check` on Node 20. In the project's own install, npm would
// warn about their engines on every `npm ci`; here that one known warning is silenced for these packages only
// (--loglevel=error), and every other package keeps npm's checks. Runs as the project's `prepare` script, so
// after every `npm ci` or `npm install` of this repository (never for users of the published package).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, 'schema-packages');
const { dependencies } = JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8'));

// npm writes node_modules/.package-lock.json as the record of what it installed: equal to the lockfile's
// packages, nothing to do.
const installedRecord = join(prefix, 'node_modules', '.package-lock.json');
const wanted = JSON.parse(readFileSync(join(prefix, 'package-lock.json'), 'utf8')).packages;
const installed = existsSync(installedRecord) ? JSON.parse(readFileSync(installedRecord, 'utf8')).packages : {};
const upToDate = Object.entries(wanted).every(([path, p]) => path === '' || installed[path]?.integrity === p.integrity);
if (!upToDate) {
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  execFileSync(npm[0], [...npm.slice(1), 'ci', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
}

for (const name of Object.keys(dependencies)) {
  const link = join(root, 'node_modules', name);
  const target = join(prefix, 'node_modules', name);
  if (existsSync(link) && lstatSync(link).isSymbolicLink()) continue;
  rmSync(link, { recursive: true, force: true });
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), target), link, 'dir');
}
