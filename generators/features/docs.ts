import type { Feature } from './types.js';

/** The service's README. */
export const docs: Feature = {
  name: 'docs',
  templateDir: 'docs',
};
