import { type BackingEndpoint, EnvReader, insecureDevMode } from './backing-config.ts';
import { SERVICE_NAME } from './service-info.ts';

/**
 * The Redis server that holds the rate limiter's counts, from the environment (the chart sets it from its `redis`
 * values). The password is never an environment variable: it is the file `redis-password` in SECRETS_DIR.
 */
export interface RedisConfig extends BackingEndpoint {
  /** REDIS_USER: an ACL user allowed only what the limiter sends (see the README); empty: the default user. */
  user: string | undefined;
  /** REDIS_KEY_PREFIX: every key the service writes starts with it (the ACL's key pattern). */
  keyPrefix: string;
  /** REDIS_CONNECT_TIMEOUT_MS */
  connectTimeoutMs: number;
  /** REDIS_COMMAND_TIMEOUT_MS: an answer slower than this counts as a failure (the request is counted locally). */
  commandTimeoutMs: number;
  /** SECRETS_RELOAD_MS: how often the password file is checked for a new value. */
  secretsReloadMs: number;
  /** Without TLS (INSECURE_DEV_MODE) a missing password file is allowed: a developer's Redis without AUTH. */
  passwordOptional: boolean;
}

export const REDIS_DEFAULTS = {
  port: 6379,
  caFile: '/run/redis-tls/ca.crt',
  keyPrefix: `${SERVICE_NAME}:rate-limit:`,
  connectTimeoutMs: 2_000,
  commandTimeoutMs: 250,
  secretsReloadMs: 10_000,
} as const;

export const REDIS_PASSWORD_FILE = 'redis-password';

export function loadRedisConfig(env: Record<string, string | undefined> = process.env): RedisConfig {
  const read = new EnvReader(env);
  const endpoint = read.endpoint('REDIS', 'Redis', REDIS_DEFAULTS.port, REDIS_DEFAULTS.caFile);
  const config: RedisConfig = {
    ...endpoint,
    user: read.get('REDIS_USER'),
    keyPrefix: read.get('REDIS_KEY_PREFIX') ?? REDIS_DEFAULTS.keyPrefix,
    connectTimeoutMs: read.integer('REDIS_CONNECT_TIMEOUT_MS', REDIS_DEFAULTS.connectTimeoutMs, 100, 600_000),
    commandTimeoutMs: read.integer('REDIS_COMMAND_TIMEOUT_MS', REDIS_DEFAULTS.commandTimeoutMs, 10, 60_000),
    secretsReloadMs: read.integer('SECRETS_RELOAD_MS', REDIS_DEFAULTS.secretsReloadMs, 100, 3_600_000),
    passwordOptional: insecureDevMode(env),
  };
  read.done();
  return config;
}
