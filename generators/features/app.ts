import { addLockfile } from './app-lockfile.js';
import type { Feature } from './types.js';

/**
 * `@types/node` for each Node line: the major matches the image's Node, so the compiler knows exactly the
 * APIs the runtime has. Other dependency pins live in templates/app/package.json.hbs.
 */
const typesNodeByMajor: Record<number, string> = { 22: '22.20.5', 24: '24.19.2', 26: '26.6.6' };

/**
 * Lowest Node release that runs the service's .ts tests: Node strips types by default from 22.18 on.
 */
function nodeEngine(major: number): string {
  return major === 22 ? '>=22.18.0' : `>=${major}.0.0`;
}

/** The TypeScript service: config, logging, shutdown, tests; the framework-specific part lives in app-<framework>. */
export const app: Feature = {
  name: 'app',
  templateDir: 'app',
  context: (answers) => {
    const typesNodeVersion = typesNodeByMajor[answers.nodeVersion];
    if (!typesNodeVersion) throw new Error(`app: no @types/node pin for Node ${answers.nodeVersion}`);
    return {
      isFastify: answers.framework === 'fastify',
      isExpress: answers.framework === 'express',
      nodeEngine: nodeEngine(answers.nodeVersion),
      typesNodeVersion,
    };
  },
  derive: addLockfile,
};

export const appFastify: Feature = {
  name: 'app-fastify',
  templateDir: 'app-fastify',
  when: (answers) => answers.framework === 'fastify',
};

export const appExpress: Feature = {
  name: 'app-express',
  templateDir: 'app-express',
  when: (answers) => answers.framework === 'express',
};
