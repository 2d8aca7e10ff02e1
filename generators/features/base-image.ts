import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Answers } from '../../core/options.js';
import { packageRoot } from '../../core/package-root.js';
import { nodeLine, type PinnedImage } from '../../core/versions.js';

/** What the emitted Dockerfile, chart, pipelines and docs need to know about the chosen base images. */
export interface BaseImages {
  kind: 'distroless' | 'dhi';
  /** Human name for docs. */
  title: string;
  build: PinnedImage;
  runtime: PinnedImage;
  /** The runtime image's non-root user: the Dockerfile's USER and the chart's runAsUser. */
  uid: number;
  userName: string;
  /** How the runtime image runs Node: distroless's entrypoint is node, DHI has no entrypoint (node is on PATH). */
  nodeCommand: string[];
  /** The node binary a HEALTHCHECK runs (exec form: an absolute path, or a name found on the image's PATH). */
  nodeExecutable: string;
  /** The registry CI logs in to before pulling, or undefined when pulls are anonymous. */
  loginRegistry?: string;
}

interface BaseFacts {
  runtime: { passwd: { name: string; uid: number }[]; user: string; entrypoint: string[] };
  dhi: { registry: string; runtime: { user: { name: string; uid: number }; entrypoint: string[]; cmd: string[] } };
}
const facts: BaseFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8'));

export function baseImages(answers: Pick<Answers, 'base' | 'nodeVersion'>): BaseImages {
  const line = nodeLine(answers.nodeVersion);
  if (answers.base === 'dhi') {
    if (!line.dhi) throw new Error(`no Docker Hardened Image pinned for Node ${line.major}`);
    const { user, cmd } = facts.dhi.runtime;
    return {
      kind: 'dhi',
      title: 'Docker Hardened Images',
      build: line.dhi.build,
      runtime: line.dhi.runtime,
      uid: user.uid,
      userName: user.name,
      // No entrypoint: the image's CMD is `node`, found on PATH, so the service's CMD names it too.
      nodeCommand: cmd,
      nodeExecutable: cmd[0]!,
      loginRegistry: facts.dhi.registry,
    };
  }
  const uid = Number(facts.runtime.user);
  return {
    kind: 'distroless',
    title: 'Google distroless',
    build: line.build,
    runtime: line.runtime,
    uid,
    userName: facts.runtime.passwd.find((p) => p.uid === uid)!.name,
    nodeCommand: [],
    nodeExecutable: facts.runtime.entrypoint[0]!,
    loginRegistry: undefined,
  };
}
