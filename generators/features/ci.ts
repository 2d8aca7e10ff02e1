import { imageTarget } from '../../core/image.js';
import { imageRef, nodeLine, versions } from '../../core/versions.js';
import type { Answers } from '../../core/options.js';
import { kubernetesTarget } from './kubernetes.js';
import type { Feature } from './types.js';

/** A scanner or linter the emitted CI runs at a pinned version (data/versions.json "tools"). */
interface PinnedTool {
  version: string;
  /** The commit of the version's tag upstream (where the facts in data/ci-facts.json were read). */
  commit?: string;
  source: string;
  /** Image for GitLab jobs: pinned by version tag (no public digest could be sourced). */
  gitlabImage: string;
}

function tool(name: string): PinnedTool {
  const entry = (versions.tools as Record<string, Partial<PinnedTool>>)[name];
  if (!entry?.version || !entry.gitlabImage) throw new Error(`ci: no pinned version of ${name} in data/versions.json`);
  return entry as PinnedTool;
}

/**
 * The registry host of an image name, the way Docker reads it: the first path component is a host only if it
 * has a dot or a port, or is `localhost`; otherwise the image is on Docker Hub.
 */
export function imageRegistry(image: string): string {
  const parts = image.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

/** The key a Docker config file (`auths`) uses for a registry: Docker Hub's is its v1 index URL. */
export function registryAuthKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/** Values the CI templates need beyond the answers, under one key so that they cannot clash with others'. */
export function pipelineContext(answers: Answers) {
  const target = imageTarget(answers);
  const registry = target.named ? imageRegistry(target.name) : target.registry;
  const helmVersion = tool('helm').version;
  return {
    /** The image rule (core/image.ts): a named image, or the repository's registry, named at run time. */
    image: target.named ? { named: true, name: target.name } : { named: false, rule: target.rule, expression: target.expression },
    registry,
    registryAuthKey: target.named ? registryAuthKey(registry) : registry,
    /** GHCR: push with the workflow's own GITHUB_TOKEN; any other registry needs REGISTRY_USERNAME/PASSWORD secrets. */
    isGhcr: registry === 'ghcr.io',
    nodeMajor: String(answers.nodeVersion),
    kubeVersion: kubernetesTarget().helmKubeVersion,
    tools: {
      trivy: tool('trivy'),
      hadolint: tool('hadolint'),
      helm: { ...tool('helm'), bare: helmVersion.replace(/^v/, '') },
      kubeconform: { ...tool('kubeconform'), bare: tool('kubeconform').version.replace(/^v/, '') },
      kubeLinter: tool('kube-linter'),
      gitleaks: { ...tool('gitleaks'), bare: tool('gitleaks').version.replace(/^v/, '') },
      cosign: tool('cosign'),
      crane: tool('crane'),
    },
    /** GitLab image jobs: BuildKit, pinned by digest. */
    buildkitImage: tool('buildkit').gitlabImage,
    /** GitLab jobs that run npm use the same digest-pinned Node image the Dockerfile builds with. */
    nodeImage: imageRef(nodeLine(answers.nodeVersion).build),
  };
}

/** GitHub Actions: CI, security scanning, container, chart and Scorecard workflows, and Dependabot. */
export const ciGithub: Feature = {
  name: 'ci-github',
  templateDir: 'ci-github',
  when: (answers) => answers.ci === 'github',
  context: (answers) => ({ pipeline: pipelineContext(answers) }),
};

/** GitLab CI: the same stages and scanners in one .gitlab-ci.yml. */
export const ciGitlab: Feature = {
  name: 'ci-gitlab',
  templateDir: 'ci-gitlab',
  when: (answers) => answers.ci === 'gitlab',
  context: (answers) => ({ pipeline: pipelineContext(answers) }),
};

/** Linter configuration both CI variants use: each rule deliberately out of scope, with its reason. */
export const lintConfig: Feature = {
  name: 'lint-config',
  templateDir: 'lint-config',
};
