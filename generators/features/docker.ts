import { imageRef, nodeLine, versions } from '../../core/versions.js';
import type { Feature } from './types.js';

/** Multi-stage Dockerfile ending in a digest-pinned distroless nonroot image, and its .dockerignore. */
export const docker: Feature = {
  name: 'docker',
  templateDir: 'docker',
  context: (answers) => {
    const line = nodeLine(answers.nodeVersion);
    return {
      syntaxImage: imageRef(versions.dockerfileSyntax),
      buildImage: imageRef(line.build),
      runtimeImage: imageRef(line.runtime),
      nodeLine: line,
      /** uid/gid of distroless `nonroot`; the chart and tests use the same. */
      runtimeUid: 65532,
      /** PROBE_PORT: /healthz and /readyz off the public port's caps (src/probe-server.ts); the chart uses the same. */
      probePort: answers.port === 9465 ? 9466 : 9465,
    };
  },
};
