import { beforeAll, describe, expect, it } from 'vitest';
import type { Answers } from '../core/options.js';
import type { FileTree } from '../core/file-tree.js';
import { generatorVersion } from '../core/package-root.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

/**
 * One readable snapshot per emitted file (suffix .snap so tools do not mistake them for sources), plus the
 * sorted file list. Other variants snapshot only the files that differ from the default, so a change to a
 * shared file shows once. Only the generator's own version (`create-hardened-service@x.y.z`) is replaced, so
 * a release bump alone changes nothing; a new digest or SHA from data/versions.json does show, on purpose.
 */
const variants: [string, Partial<Record<keyof Answers, string>>][] = [
  ['default', {}],
  ['express', { framework: 'express' }],
  ['gitlab', { ci: 'gitlab' }],
  ['postgres-redis', { database: 'postgres', rateLimitStore: 'redis' }],
  ['mysql-gitlab', { database: 'mysql', ci: 'gitlab' }],
];

const normalize = (text: string) =>
  text.replaceAll(`create-hardened-service@${generatorVersion}`, 'create-hardened-service@<generator-version>');

let defaults: FileTree;
beforeAll(async () => {
  defaults = await renderService(await answersFor('my-svc'));
});

describe.each(variants)('emitted tree: %s', (variant, given) => {
  it('matches the file snapshots', async () => {
    const tree = await renderService(await answersFor('my-svc', given));
    await expect([...tree.keys()].join('\n') + '\n').toMatchFileSnapshot(`__snapshots__/tree-${variant}/FILES.snap`);
    for (const [path, bytes] of tree) {
      if (variant !== 'default' && defaults.get(path)?.equals(bytes)) continue;
      // Resolved data from data/lockfiles/, checked by test/app-lockfile.test.ts rather than by eye.
      if (path === 'package-lock.json') continue;
      await expect(normalize(bytes.toString('utf8'))).toMatchFileSnapshot(`__snapshots__/tree-${variant}/${path}.snap`);
    }
  });
});
