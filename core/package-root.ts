import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The generator's own folder: found by walking up, so it is the same from lib/ (tests) and dist/lib/ (published). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'create-hardened-service') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('create-hardened-service: cannot find its own package.json');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const templatesRoot = join(packageRoot, 'templates');
export const generatorVersion: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;
