import { describe, expect, it } from 'vitest';
import type { Answers } from '../generators/options.js';
import { generatorVersion } from '../lib/package-root.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

/**
 * One readable snapshot per emitted file (suffix .snap so tools do not mistake them for sources), plus the
 * sorted file list. Only the generator version is replaced, so a release bump alone changes nothing; a new
 * digest or SHA from data/versions.json does show, on purpose.
 */
const variants: [string, Partial<Record<keyof Answers, string>>][] = [
  ['default', {}],
  ['express', { framework: 'express' }],
];

describe.each(variants)('emitted tree: %s', (variant, given) => {
  it('matches the file snapshots', async () => {
    const tree = await renderService(await answersFor('my-svc', given));
    const normalize = (text: string) => text.replaceAll(generatorVersion, '<generator-version>');
    await expect([...tree.keys()].join('\n') + '\n').toMatchFileSnapshot(`__snapshots__/tree-${variant}/FILES.snap`);
    for (const [path, bytes] of tree) {
      await expect(normalize(bytes.toString('utf8'))).toMatchFileSnapshot(`__snapshots__/tree-${variant}/${path}.snap`);
    }
  });
});
