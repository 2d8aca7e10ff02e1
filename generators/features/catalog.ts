import type { Answers } from '../../core/options.js';
import { imageRegistry } from './ci.js';
import type { Feature } from './types.js';

/**
 * The repository a service most likely lives in, read from its image name the way the registries name
 * images: `ghcr.io/<owner>/<repo>` on GitHub, `registry.gitlab.com/<group>/<project>` on GitLab (nested groups are ambiguous: left out).
 * Undefined when the image says nothing about it (Docker Hub, a private registry).
 */
export function repositorySlug(answers: Pick<Answers, 'image' | 'ci'>): { host: 'github.com' | 'gitlab.com'; slug: string } | undefined {
  const registry = imageRegistry(answers.image);
  const path = answers.image.split('/').slice(1);
  if (answers.ci === 'github' && registry === 'ghcr.io' && path.length === 2) return { host: 'github.com', slug: path.join('/') };
  if (answers.ci === 'gitlab' && registry === 'registry.gitlab.com' && path.length === 2) return { host: 'gitlab.com', slug: path.join('/') };
  return undefined;
}

/** An owner as a Backstage entity reference: `@acme/platform` (CODEOWNERS style) → `group:default/platform`. */
export function catalogOwner(owner: string): string {
  if (owner.startsWith('@')) return `group:default/${owner.split('/').pop()!.toLowerCase()}`;
  return owner;
}

/** catalog-info.yaml: the service as a Backstage Component, with its owner, system, lifecycle and links. */
export const catalog: Feature = {
  name: 'catalog',
  templateDir: 'catalog',
  context: (answers) => {
    const repo = repositorySlug(answers);
    const url = repo ? `https://${repo.host}/${repo.slug}` : undefined;
    return {
      catalog: {
        owner: catalogOwner(answers.owner),
        repo: repo ?? null,
        links: url
          ? [
              { url, title: 'Source', icon: repo!.host === 'github.com' ? 'github' : 'gitlab' },
              { url: `${url}/${repo!.host === 'github.com' ? 'actions' : '-/pipelines'}`, title: 'CI', icon: 'dashboard' },
              { url: `${url}/${repo!.host === 'github.com' ? 'blob/main/SECURITY.md' : '-/blob/main/SECURITY.md'}`, title: 'Security policy', icon: 'docs' },
            ]
          : [],
      },
    };
  },
};
