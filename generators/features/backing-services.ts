import { imageRef, versions } from '../../core/versions.js';
import type { Answers } from '../../core/options.js';
import type { Feature } from './types.js';

/**
 * What the service talks to besides its clients: a database (`--database`) and a rate-limit store shared by
 * every replica (`--rate-limit-store redis`). Each is a pooled client with verified TLS, credentials read from
 * mounted files, egress to exactly its port, and its own templates: shared code in app-backing, the database in
 * app-database plus one driver folder, Redis in app-redis; the chart's parts in chart-database and chart-redis.
 */
export function backingContext(answers: Pick<Answers, 'name' | 'database' | 'rateLimitStore'>) {
  const database = answers.database !== 'none';
  const redis = answers.rateLimitStore === 'redis';
  return {
    backing: {
      any: database || redis,
      database,
      postgres: answers.database === 'postgres',
      mysql: answers.database === 'mysql',
      redis,
      /** The database's default port and how the docs name it. */
      databasePort: answers.database === 'mysql' ? 3306 : 5432,
      databaseProduct: answers.database === 'mysql' ? 'MySQL' : 'PostgreSQL',
      /** The database, by default: the service name as an SQL identifier. */
      databaseName: sqlName(answers.name),
      /** The service's user and the migrations Job's, as every supported database accepts them. */
      ...roleNames(answers.name, answers.database === 'postgres'),
      /** The service containers of the CI's integration tests: `name:tag` for readers, and pinned by digest. */
      ciImage: ciImage(answers.database === 'mysql' ? 'mysql' : 'postgres'),
      redisCiImage: ciImage('redis'),
    },
  };
}

/** A service name (a DNS-1123 label) as an SQL identifier. */
function sqlName(name: string): string {
  return name.replace(/-/g, '_');
}

/** PostgreSQL refuses to create a role whose name starts with pg_ (they are reserved for its own roles). */
const POSTGRES_RESERVED_ROLE = /^pg_/;
const MIGRATIONS_SUFFIX = '_migrations';

/**
 * The service's role and the migrations Job's: the service name as an SQL identifier, and `<that>_migrations`. For
 * PostgreSQL, a name whose migrations role would start with pg_ (services named pg or pg-…) gets the prefix svc_.
 */
function roleNames(name: string, postgres: boolean): { databaseUser: string; migrationsUser: string } {
  let base = sqlName(name);
  if (postgres && POSTGRES_RESERVED_ROLE.test(`${base}${MIGRATIONS_SUFFIX}`)) base = `svc_${base}`;
  return { databaseUser: base, migrationsUser: `${base}${MIGRATIONS_SUFFIX}` };
}

function ciImage(which: 'postgres' | 'mysql' | 'redis') {
  const image = versions.services[which];
  return { name: `${image.image}:${image.tag}`, ref: imageRef(image) };
}

/** TLS settings, the development switch and re-read credentials: what the database and Redis clients share. */
export const appBacking: Feature = {
  name: 'app-backing',
  templateDir: 'app-backing',
  when: (answers) => answers.database !== 'none' || answers.rateLimitStore === 'redis',
  context: backingContext,
};

/** The pool, its readiness check, the migration runner and the sample route, whichever the driver. */
export const appDatabase: Feature = {
  name: 'app-database',
  templateDir: 'app-database',
  when: (answers) => answers.database !== 'none',
};

export const appPostgres: Feature = {
  name: 'app-postgres',
  templateDir: 'app-postgres',
  when: (answers) => answers.database === 'postgres',
};

export const appMysql: Feature = {
  name: 'app-mysql',
  templateDir: 'app-mysql',
  when: (answers) => answers.database === 'mysql',
};

/** The rate limiter's counts in Redis, shared by every replica. */
export const appRedis: Feature = {
  name: 'app-redis',
  templateDir: 'app-redis',
  when: (answers) => answers.rateLimitStore === 'redis',
};

/** What the database's and Redis's chart templates share: the egress rule to one server, its CA volume. */
export const chartBacking: Feature = {
  name: 'chart-backing',
  templateDir: 'chart-backing',
  when: (answers) => answers.database !== 'none' || answers.rateLimitStore === 'redis',
};

/** The migrations hook Job and the database's connection, CA and egress values. */
export const chartDatabase: Feature = {
  name: 'chart-database',
  templateDir: 'chart-database',
  when: (answers) => answers.database !== 'none',
};

/** Redis's connection, CA and egress values. */
export const chartRedis: Feature = {
  name: 'chart-redis',
  templateDir: 'chart-redis',
  when: (answers) => answers.rateLimitStore === 'redis',
};
