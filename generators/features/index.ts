import type { Answers } from '../../core/options.js';
import { app, appExpress, appFastify } from './app.js';
import { appBacking, appDatabase, appMysql, appPostgres, appRedis, chartBacking, chartDatabase, chartRedis } from './backing-services.js';
import { catalog } from './catalog.js';
import { ciGithub, ciGitlab, lintConfig } from './ci.js';
import { docker } from './docker.js';
import { docs, securityDoc } from './docs.js';
import { chart, namespace } from './kubernetes.js';
import { verification } from './signing.js';
import type { Feature } from './types.js';

/** Every emitted area, in render order. Adding an area = one module here and one folder in templates/. */
export const features: readonly Feature[] = [
  app,
  appFastify,
  appExpress,
  appBacking,
  appDatabase,
  appPostgres,
  appMysql,
  appRedis,
  docker,
  docs,
  chart,
  chartBacking,
  chartDatabase,
  chartRedis,
  namespace,
  verification,
  ciGithub,
  ciGitlab,
  lintConfig,
  securityDoc,
  catalog,
];

export function activeFeatures(answers: Answers): Feature[] {
  return features.filter((f) => f.when?.(answers) ?? true);
}
