import { describe, expect, it } from 'vitest';
import { versions } from '../core/versions.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

const variants = ['fastify', 'express'].flatMap((framework) => versions.node.lines.map((l) => [framework, String(l.major)] as const));

describe.each(variants)('emitted package-lock.json (%s, Node %s)', (framework, nodeVersion) => {
  it('locks exactly the versions package.json pins, every package with an integrity hash', async () => {
    const tree = await renderService(await answersFor('lock-svc', { framework, nodeVersion }));
    const pkg = JSON.parse(tree.get('package.json')!.toString());
    const lock = JSON.parse(tree.get('package-lock.json')!.toString());
    expect(lock).toMatchObject({ name: 'lock-svc', version: pkg.version, lockfileVersion: 3 });
    expect(lock.packages['']).toEqual({
      name: pkg.name,
      version: pkg.version,
      dependencies: pkg.dependencies,
      devDependencies: pkg.devDependencies,
      engines: pkg.engines,
    });
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
    for (const [path, entry] of Object.entries(lock.packages as Record<string, { integrity?: string; link?: boolean }>)) {
      if (path === '' || entry.link) continue;
      expect(entry.integrity, path).toMatch(/^sha512-/);
    }
    // Registry-neutral: no resolved URLs, so a team's registry mirror serves the same integrity-checked files.
    expect(tree.get('package-lock.json')!.toString()).not.toContain('"resolved"');
  });
});
