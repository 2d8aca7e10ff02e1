/**
 * `npm run build:modules` (tsc, one file per module) is what scripts/refresh-lockfiles.mjs imports: plain Node
 * ESM, with none of the bundler's or vitest's leniency about import specifiers. Build it and render a service
 * through it, so that an import only a bundler can resolve fails here rather than in a maintainer's hands.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/package-root.js';

describe('per-module build (npm run build:modules)', () => {
  it('compiles, and renders a whole service under plain Node', async () => {
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: packageRoot, timeout: 120_000 });
    const script = `
      const { resolveAnswers } = await import('./dist/lib/answers.js');
      const { renderService } = await import('./dist/lib/render-service.js');
      const tree = await renderService(await resolveAnswers({ given: {}, context: { targetDir: 'svc' } }));
      console.log(tree.size, tree.has('Dockerfile'), tree.has('chart/values.yaml'));
    `;
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot, timeout: 60_000 });
    const [count, dockerfile, values] = stdout.trim().split(' ');
    expect(Number(count)).toBeGreaterThan(40);
    expect([dockerfile, values]).toEqual(['true', 'true']);
  }, 180_000);
});
