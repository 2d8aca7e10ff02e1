import { describe, expect, it } from 'vitest';
import { options, parseOptionValue, serviceNameFromDir } from '../core/options.js';
import { versions } from '../core/versions.js';
import { answersFor } from './support/answers.js';

describe('options model', () => {
  it.each([
    ['my-svc', 'my-svc'],
    ['Orders_API', 'orders-api'],
    ['/some/where/Billing Service 2', 'billing-service-2'],
    ['___', 'service'],
    ['x'.repeat(80), 'x'.repeat(63)],
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
  ])('directory %s gives the valid default name %s', (dir, name) => {
    expect(serviceNameFromDir(dir)).toBe(name);
    expect(parseOptionValue(options[0]!, name)).toEqual({ value: name });
  });

  it("the default image is none: the CI repository's own registry, named at run time (core/image.ts)", async () => {
    expect((await answersFor('svc', { owner: 'group:default/Payments' })).image).toBe('');
    expect((await answersFor('svc', { ci: 'gitlab' })).image).toBe('');
    expect(parseOptionValue(options.find((o) => o.key === 'image')!, '')).toEqual({ value: '' });
  });

  it('offers only Node lines from the versions file that are not past end of life, defaulting to the active LTS', () => {
    const nodeOption = options.find((o) => o.key === 'nodeVersion')!;
    const offered = nodeOption.type === 'integer' ? nodeOption.choices?.map((c) => c.value) : [];
    expect(offered).toEqual(versions.node.lines.map((l) => l.major));
    for (const line of versions.node.lines) expect(line.endOfLife > '2026-11-23').toBe(true);
    expect(versions.node.lines.find((l) => l.major === versions.node.defaultMajor)?.status).toBe('active LTS');
  });

  it('every option has a flag, a description, the areas it affects and the version that introduced it', () => {
    const flags = new Set(options.map((o) => o.flag));
    expect(flags.size).toBe(options.length);
    for (const o of options) {
      expect(o.flag).toMatch(/^[a-z][a-z-]*$/);
      expect(o.description.length).toBeGreaterThan(10);
      expect(o.since).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
