import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { imageTarget } from '../../core/image.js';
import { imageRef, nodeLine, versions } from '../../core/versions.js';
import type { Answers } from '../../core/options.js';
import { baseImages } from './base-image.js';
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

interface MultiArchFacts {
  github: { runners: Record<string, string> };
  gitlab: { runners: Record<string, string> };
}
const ciFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'ci-facts.json'), 'utf8')) as {
  multiArch: MultiArchFacts;
  releases: Record<string, { version: string; asset: string; sha256?: string }>;
};
const baseFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8')) as {
  distrolessVerify: { identity: string; issuer: string };
};

/** One entry per platform: the native runner of each CI system, and the platform as a name part (`linux-arm64`). */
export function platformBuilds(platforms: string) {
  return platforms.split(',').map((platform) => {
    const github = ciFacts.multiArch.github.runners[platform];
    const gitlab = ciFacts.multiArch.gitlab.runners[platform];
    if (!github || !gitlab) throw new Error(`ci: no native runner recorded for ${platform} in data/ci-facts.json`);
    const arch = platform.split('/')[1]!;
    return { platform, pair: platform.replace(/\//g, '-'), arch, archVar: arch.toUpperCase(), github, gitlab };
  });
}

/** Docker Scout, which verifies Docker Hardened Images before a build (data/ci-facts.json releases.docker-scout). */
function dockerScout() {
  const release = ciFacts.releases['docker-scout'];
  if (!release) throw new Error('ci: no Docker Scout release in data/ci-facts.json');
  return { ...release, file: release.asset.split('/').pop()! };
}

/** Values the CI templates need beyond the answers, under one key so that they cannot clash with others'. */
export function pipelineContext(answers: Answers) {
  const target = imageTarget(answers);
  const registry = target.named ? imageRegistry(target.name) : target.registry;
  const bases = baseImages(answers);
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
      dockerCli: tool('docker-cli'),
    },
    /** One build per platform, each on its native runner; an index merges them. */
    platforms: platformBuilds(answers.platforms),
    /** `linux/amd64 and linux/arm64`, for prose. */
    platformList: answers.platforms.split(',').join(' and '),
    /** What CI logs in to and verifies before it builds on the base images. */
    base: {
      isDhi: answers.base === 'dhi',
      registry: bases.loginRegistry,
      buildImage: imageRef(bases.build),
      runtimeImage: imageRef(bases.runtime),
      distroless: baseFacts.distrolessVerify,
      scout: dockerScout(),
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
