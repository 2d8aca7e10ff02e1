import { imageRef, nodeLine, versions } from '../../core/versions.js';
import { baseImages } from './base-image.js';
import type { Feature } from './types.js';

/** Multi-stage Dockerfile ending in a digest-pinned, non-root runtime image (distroless or DHI), and its .dockerignore. */
export const docker: Feature = {
  name: 'docker',
  templateDir: 'docker',
  context: (answers) => {
    const line = nodeLine(answers.nodeVersion);
    const base = baseImages(answers);
    return {
      syntaxImage: imageRef(versions.dockerfileSyntax),
      buildImage: imageRef(base.build),
      runtimeImage: imageRef(base.runtime),
      nodeLine: line,
      baseImage: { ...base, isDhi: base.kind === 'dhi' },
      /** uid/gid of the runtime image's non-root user (distroless `nonroot`, DHI `node`); the chart uses the same. */
      runtimeUid: base.uid,
      /** PROBE_PORT: /healthz and /readyz off the public port's caps (src/probe-server.ts); the chart uses the same. */
      probePort: answers.port === 9465 ? 9466 : 9465,
    };
  },
};
