import { imageTarget, localImageName } from '../../core/image.js';
import { nodeLine, versions } from '../../core/versions.js';
import type { Answers } from '../../core/options.js';
import { kubernetesTarget } from './kubernetes.js';
import { baseImages } from './base-image.js';
import type { Feature } from './types.js';

/** The service's README. */
export const docs: Feature = {
  name: 'docs',
  templateDir: 'docs',
  context: (answers) => ({ imageDocs: { target: imageTarget(answers), local: localImageName(answers) } }),
};

/**
 * The end-of-life rows of SECURITY.md: the Node line, the Debian release under the base image, the image itself
 * (it dies with the first of the two) and the Kubernetes minor.
 */
export function endOfLifeRows(answers: Answers): { component: string; endOfLife: string }[] {
  const line = nodeLine(answers.nodeVersion);
  const { runtime } = baseImages(answers);
  const { debian } = versions;
  const k8s = kubernetesTarget();
  const imageEnd = [line.endOfLife, debian.securitySupportEnds].sort()[0]!;
  return [
    { component: `Node.js ${line.major} (${line.status})`, endOfLife: line.endOfLife },
    {
      component: `Debian ${debian.release} "${debian.codename}", the base image's OS: regular security support (Debian LTS until ${debian.ltsEnds})`,
      endOfLife: debian.securitySupportEnds,
    },
    { component: `Base image ${runtime.image}:${runtime.tag} (the first of Node.js ${line.major} and Debian ${debian.release} to end)`, endOfLife: imageEnd },
    { component: `Kubernetes ${k8s.minor} (pinned minor; Chart.yaml refuses minors older than ${k8s.oldestSupported})`, endOfLife: k8s.endOfLife },
  ];
}

/** SECURITY.md (OWASP Docker Top 10, scanning, patch policy, end-of-life dates, accepted findings) and .trivyignore. */
export const securityDoc: Feature = {
  name: 'security-doc',
  templateDir: 'security-doc',
  context: (answers) => ({
    securityDoc: {
      isGithub: answers.ci === 'github',
      checked: baseImages(answers).runtime.checked,
      endOfLife: endOfLifeRows(answers),
    },
  }),
};
