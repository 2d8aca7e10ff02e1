// What `npx create-hardened-service` downloads: the packed tarball, installed with production dependencies
// only into a temporary prefix, exactly as npm would for a user. The installed bin is what the generation
// and fleet benchmarks then run, so they measure the published package, not the repository.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { folderSize, repoRoot, run, tempDir } from './support.mjs';

/** Packs the repository (after `npm run build`) and installs the tarball into a fresh prefix. */
export function measureFootprint() {
  const work = tempDir('footprint');
  run('npm', ['run', 'build', '--silent'], { cwd: repoRoot });
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repoRoot }).stdout)[0];
  const tarball = join(work, packed.filename);
  const prefix = join(work, 'prefix');
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const runtimeDeps = Object.keys(manifest.dependencies ?? {});
  // Without runtime dependencies nothing needs the registry: --offline proves it. With some, use the cache.
  const network = runtimeDeps.length === 0 ? ['--offline'] : ['--prefer-offline'];
  const install = run('npm', ['install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', ...network, tarball], { cwd: work });
  const lock = JSON.parse(readFileSync(join(prefix, 'package-lock.json'), 'utf8'));
  const packages = Object.keys(lock.packages).filter((p) => p !== '').length;
  const installed = folderSize(join(prefix, 'node_modules'));

  // create-vite, the reference: its published package has no dependencies (its CLI is bundled).
  const viteDir = join(repoRoot, 'node_modules', 'create-vite');
  const vite = JSON.parse(readFileSync(join(viteDir, 'package.json'), 'utf8'));
  return {
    work,
    bin: join(prefix, 'node_modules', 'create-hardened-service', 'bin', 'create-hardened-service.js'),
    installMs: Math.round(install.ms),
    ours: {
      tarball: packed.filename,
      packedBytes: packed.size,
      unpackedBytes: packed.unpackedSize,
      packedFiles: packed.entryCount,
      runtimeDependencies: runtimeDeps,
      installedBytes: installed.bytes,
      installedFiles: installed.files,
      packages,
    },
    createVite: {
      version: vite.version,
      runtimeDependencies: Object.keys(vite.dependencies ?? {}),
      installedBytes: folderSize(viteDir).bytes,
      packages: 1 + Object.keys(vite.dependencies ?? {}).length,
    },
    topLevel: readdirSync(join(prefix, 'node_modules')).filter((n) => !n.startsWith('.')),
  };
}
