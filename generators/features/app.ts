import type { Feature } from './types.js';

/** The TypeScript service: config, logging, shutdown, tests; the framework-specific part lives in app-<framework>. */
export const app: Feature = {
  name: 'app',
  templateDir: 'app',
  context: (answers) => ({ isFastify: answers.framework === 'fastify', isExpress: answers.framework === 'express' }),
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
