import type { Answers } from '../../core/options.js';
import { slug } from '../../core/options.js';
import { repositorySlug } from './catalog.js';
import { admittedImageRepositories, serviceNamespace } from './kubernetes.js';
import type { Feature } from './types.js';

/** A regular expression that matches `text` literally (RE2 and JavaScript agree on these escapes). */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The keyless identity the emitted pipeline signs with: the OIDC issuer of the CI system, and the certificate
 * subject Fulcio writes for the signing job (sigstore/fulcio config/identity/config.yaml,
 * subject-alternative-name-template): on GitHub `https://github.com/{job_workflow_ref}`, the workflow file at
 * the ref that ran it; on GitLab `https://{ci_config_ref_uri}`, the project's .gitlab-ci.yml at that ref. The
 * pipeline publishes only from the default branch (main) and v* tags, so those are the only refs admitted.
 *
 * The repository is read from the image name where the registry names it (GHCR, GitLab.com's registry);
 * otherwise it is assumed to be <owner>/<name>, and the docs say so: the team corrects it in the policies.
 */
export function signingIdentity(answers: Pick<Answers, 'image' | 'ci' | 'owner' | 'name'>) {
  const known = repositorySlug(answers);
  const repository = known?.slug ?? `${slug(answers.owner)}/${answers.name}`;
  const github = answers.ci === 'github';
  const host = github ? 'github.com' : 'gitlab.com';
  const pipelineFile = github ? '.github/workflows/container.yml' : '.gitlab-ci.yml';
  // GitLab's ci_config_ref_uri separates the project from the file with "//".
  const signer = `https://${host}/${repository}/${github ? '' : '/'}${pipelineFile}`;
  return {
    ci: answers.ci,
    issuer: github ? 'https://token.actions.githubusercontent.com' : 'https://gitlab.com',
    repository,
    repositoryAssumed: known === undefined,
    pipelineFile,
    /** The certificate subject of a signature made on main. */
    subjectOnMain: `${signer}@refs/heads/main`,
    /** Every subject the pipeline signs with: main or a v* tag. */
    subjectRegExp: `^${literal(signer)}@refs/(heads/main|tags/v.+)$`,
    /** `gh attestation verify --signer-workflow` (GitHub only). */
    signerWorkflow: `${repository}/${pipelineFile}`,
  };
}

/**
 * The signature verification kit under verify/: a sigstore policy-controller ClusterImagePolicy and a Kyverno
 * ImageValidatingPolicy that admit the service's images only when signed by its own pipeline.
 */
export const verification: Feature = {
  name: 'verification',
  templateDir: 'verification',
  context: (answers) => {
    const identity = signingIdentity(answers);
    const images = admittedImageRepositories(answers);
    return {
      signing: {
        identity,
        message: `an image is not signed by ${identity.pipelineFile} of ${identity.repository} (SECURITY.md, "Supply chain")`,
        policyName: `${serviceNamespace(answers.name)}-signed-images`,
        images,
        // policy-controller's glob: `**` is any characters (tags, digests); Kyverno's `*` is any characters.
        globs: images.map((r) => ({ policyController: `${r}**`, kyverno: `${r}*` })),
      },
    };
  },
};
