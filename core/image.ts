import { REPOSITORY_REGISTRY, slug } from './options.js';

/**
 * Where a service's image is published: the one rule the generator, the chart, `check` and presets share.
 *
 * - An image the team named (the `image` answer, or a preset's default or lock) is used as given: every pipeline,
 *   the chart's `image.repository` default and `check` use that name.
 * - Without one (the answer is empty, the default), each pipeline publishes to its own repository's registry,
 *   where its job token can push, and derives the name at run time: on GitHub `ghcr.io/<owner>/<repo>` from
 *   `github.repository`, lower-cased (GHCR names are lower-case; GITHUB_TOKEN writes only its repository's
 *   packages); on GitLab `$CI_REGISTRY_IMAGE` (the only path the job token may push to). The chart then has no
 *   default repository: the deploy sets `image.repository` to the name the publish job printed, and the chart
 *   refuses to render without it.
 * - A preset that limits registries (constraints.allowedRegistries) needs a named image: a name known only at
 *   run time cannot be held to a list.
 * - Where a file must name the image at generation time (deploy/image-policy.yaml, verify/, `check`'s render of
 *   the chart), a run-time name is assumed to be <owner>/<name> on the CI's registry (assumedImage), and those
 *   files say so.
 */
export interface ImageAnswers {
  image: string;
  ci: 'github' | 'gitlab';
  name: string;
}

export type ImageTarget =
  | { named: true; name: string }
  | {
      named: false;
      /** How the pipeline derives the name, in words. */
      rule: string;
      /** The shell expression the pipeline evaluates for the name (GitHub: bash in a step; GitLab: a variable). */
      expression: string;
      /** The registry host's expression (GitHub: ghcr.io; GitLab: $CI_REGISTRY). */
      registry: string;
    };

export function imageTarget(answers: Pick<ImageAnswers, 'image' | 'ci'>): ImageTarget {
  if (answers.image !== REPOSITORY_REGISTRY) return { named: true, name: answers.image };
  return answers.ci === 'gitlab'
    ? { named: false, rule: "this project's container registry ($CI_REGISTRY_IMAGE)", expression: '$CI_REGISTRY_IMAGE', registry: '$CI_REGISTRY' }
    : { named: false, rule: "this repository's package on ghcr.io, ghcr.io/<owner>/<repository> in lower case", expression: 'ghcr.io/${GITHUB_REPOSITORY,,}', registry: 'ghcr.io' };
}

/**
 * The name a file must give the image at generation time (the admission and signature policies, `check`'s render
 * of the chart): the named image, or, when CI names it at run time, the repository it is assumed to live in,
 * <owner>/<name> on the CI's registry (GitLab.com's for GitLab). The files that use it say it is an assumption
 * the team corrects when the repository is elsewhere.
 */
export function assumedImage(answers: ImageAnswers & { owner: string }): string {
  const target = imageTarget(answers);
  if (target.named) return target.name;
  return `${answers.ci === 'gitlab' ? 'registry.gitlab.com' : 'ghcr.io'}/${slug(answers.owner)}/${answers.name}`;
}

/** The tag a local `docker build` uses in the printed next steps and the README. */
export function localImageName(answers: ImageAnswers): string {
  const target = imageTarget(answers);
  return target.named ? target.name : answers.name;
}
