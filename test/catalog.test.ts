import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalogOwner, repositorySlug } from '../generators/features/catalog.js';
import type { Answers } from '../core/options.js';
import { renderText } from './support/ci-workflows.js';

async function catalog(given: Partial<Record<keyof Answers, string>> = {}) {
  const files = await renderText(given);
  const text = files.get('catalog-info.yaml');
  expect(text, 'catalog-info.yaml is emitted').toBeDefined();
  return parse(text!) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; description: string; annotations?: Record<string, string>; links?: { url: string; title: string }[]; tags: string[] };
    spec: { type: string; lifecycle: string; owner: string; system: string };
  };
}

describe('Backstage catalog-info.yaml', () => {
  it('is a Component with every required field, filled from the answers', async () => {
    const entity = await catalog();
    expect(entity.apiVersion).toBe('backstage.io/v1alpha1');
    expect(entity.kind).toBe('Component');
    expect(entity.metadata.name).toBe('my-svc');
    expect(entity.metadata.description).toBe('A hardened Node.js service');
    expect(entity.spec).toEqual({ type: 'service', lifecycle: 'experimental', owner: 'platform', system: 'platform' });
    expect(entity.metadata.tags).toEqual(['nodejs', 'fastify', 'kubernetes']);
    // Backstage entity names: at most 63 of [A-Za-z0-9-_.].
    expect(entity.metadata.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$/);
  });

  it('annotates the GitHub project slug and links the repository when the image is on GHCR', async () => {
    const entity = await catalog({ image: 'ghcr.io/acme/orders-api' });
    expect(entity.metadata.annotations).toEqual({ 'github.com/project-slug': 'acme/orders-api' });
    expect(entity.metadata.links?.map((l) => l.url)).toEqual([
      'https://github.com/acme/orders-api',
      'https://github.com/acme/orders-api/actions',
      'https://github.com/acme/orders-api/blob/main/SECURITY.md',
    ]);
  });

  it('annotates the GitLab project slug for registry.gitlab.com images on GitLab CI', async () => {
    const entity = await catalog({ ci: 'gitlab', image: 'registry.gitlab.com/acme/orders-api' });
    expect(entity.metadata.annotations).toEqual({ 'gitlab.com/project-slug': 'acme/orders-api' });
  });

  it('leaves annotations and links out when the repository cannot be derived', async () => {
    for (const image of ['acme/orders-api', 'registry.example.com:5000/team/orders-api']) {
      const entity = await catalog({ image });
      expect(entity.metadata.annotations).toBeUndefined();
      expect(entity.metadata.links).toBeUndefined();
    }
    expect(repositorySlug({ ci: 'gitlab', image: 'registry.gitlab.com/group/sub/project' })).toBeUndefined();
  });

  it('takes system, lifecycle and owner from the answers; escapes hostile descriptions', async () => {
    const description = `R&D 'core' "x" #1: {{ y }}`;
    const entity = await catalog({ system: 'payments', lifecycle: 'production', owner: '@acme/Payments', description });
    expect(entity.spec).toMatchObject({ system: 'payments', lifecycle: 'production', owner: 'group:default/payments' });
    expect(entity.metadata.description).toBe(description);
    expect(catalogOwner('group:default/platform')).toBe('group:default/platform');
  });
});
