import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { DEFAULT_PORT } from './service-info.ts';

/**
 * Everything the service reads from its environment, validated once at start-up. Secrets are never read
 * from the environment (it leaks into /proc, crash dumps and child processes): see secrets.ts.
 */
export interface Config {
  /** PORT: HTTP port. 0 picks a free port (tests). */
  port: number;
  /** HOST: address to bind. */
  host: string;
  /** LOG_LEVEL: fatal, error, warn, info, debug, trace or silent. */
  logLevel: LogLevel;
  /** SECRETS_DIR: directory of secret files (one file per secret, as Kubernetes mounts them); made absolute. */
  secretsDir: string;
  /** SHUTDOWN_DELAY_MS: after SIGTERM, how long /readyz fails while requests are still served. */
  shutdownDelayMs: number;
  /**
   * SHUTDOWN_TIMEOUT_MS: drain deadline (counted after the delay): connections still open then are closed, and
   * the process exits 1 if that cut a response short, else 0. Worst case: delay + timeout.
   */
  shutdownTimeoutMs: number;
  /**
   * RATE_LIMIT_MAX requests per client per RATE_LIMIT_WINDOW_MS (probes are not limited); the store keeps at
   * most RATE_LIMIT_MAX_CLIENTS clients, forgetting the least recently seen first.
   */
  rateLimit: { max: number; windowMs: number; maxClients: number };
  /** How long each phase of a connection may take, and how many connections and bytes it may hold. */
  limits: Limits;
  /** METRICS_PORT: Prometheus text metrics at /metrics on this port; unset = off. */
  metricsPort: number | undefined;
  /** PROBE_PORT: /healthz and /readyz on a port of their own, off the public port's caps; unset = off. */
  probePort: number | undefined;
  /**
   * TRUST_PROXY: the addresses the proxies connect from, whose X-Forwarded-For gives the client IP (logs, rate
   * limit, connection caps): a comma-separated list of addresses or CIDRs. Unset or 0: none. A hop count is
   * refused: it would trust whoever connects, not just the proxy.
   */
  trustProxy: false | string[];
}

export interface Limits {
  /** HEADERS_TIMEOUT_MS: from the connection (or the request's first byte) to the end of its headers; then 408. */
  headersTimeoutMs: number;
  /** REQUEST_TIMEOUT_MS: from the request's first byte to the end of its body; then 408. */
  requestTimeoutMs: number;
  /** IDLE_TIMEOUT_MS: no byte received or sent for this long while a request or response is under way: closed. */
  idleTimeoutMs: number;
  /** KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this (recent Node releases add 1 s of slack). */
  keepAliveTimeoutMs: number;
  /** MAX_CONNECTIONS: open connections in all; further ones are closed at once. */
  maxConnections: number;
  /** MAX_CONNECTIONS_PER_IP: open connections from one address that is not a trusted proxy. */
  maxConnectionsPerIp: number;
  /** BODY_LIMIT_BYTES: larger request bodies get 413, without being read. */
  bodyLimitBytes: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  host: '0.0.0.0',
  logLevel: 'info',
  secretsDir: '/run/secrets',
  shutdownDelayMs: 5_000,
  shutdownTimeoutMs: 10_000,
  rateLimitMax: 100,
  rateLimitWindowMs: 60_000,
  rateLimitMaxClients: 10_000,
  // A request still arriving when draining starts ends (408 at worst) before the drain deadline
  // (shutdownTimeoutMs), so that a slow client cannot make a shutdown lose work.
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 8_000,
  idleTimeoutMs: 5_000,
  // Longer than the idle timeout of common load balancers and ingress-nginx's upstream keep-alive (60 s),
  // so that they close idle connections first, not while sending a request on one.
  keepAliveTimeoutMs: 72_000,
  maxConnections: 1_000,
  maxConnectionsPerIp: 100,
  bodyLimitBytes: 1_048_576,
} as const;

/** Invalid configuration: the message is one line naming every bad variable and what it accepts. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Shows a value in an error message without flooding it. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const integer = (name: string, fallback: number | undefined, min: number, max: number, hint = ''): number | undefined => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${shown(raw)} must be a whole number from ${min} to ${max}${hint}`);
      return fallback;
    }
    return value;
  };

  const port = (name: string, fallback: number | undefined): number | undefined => {
    const value = integer(name, fallback, 0, 65535);
    if (value !== undefined && value > 0 && value < 1024) {
      problems.push(`${name}=${value} needs root: use 1024 to 65535 (the service runs as a non-root user)`);
    }
    return value;
  };

  const host = get('HOST') ?? DEFAULTS.host;
  if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) {
    problems.push(`HOST=${shown(host)} must be an IP address or a host name`);
  }

  const logLevel = get('LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL=${shown(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  }

  // A relative path (`SECRETS_DIR=./secrets npm start` on a laptop) is taken from the working directory.
  const secretsDir = resolve(get('SECRETS_DIR') ?? DEFAULTS.secretsDir);

  const httpPort = port('PORT', DEFAULT_PORT) ?? DEFAULT_PORT;
  const metricsPort = port('METRICS_PORT', undefined);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === httpPort) {
    problems.push(`METRICS_PORT=${metricsPort} must differ from PORT`);
  }
  const probePort = port('PROBE_PORT', undefined);
  if (probePort !== undefined && probePort !== 0 && (probePort === httpPort || probePort === metricsPort)) {
    problems.push(`PROBE_PORT=${probePort} must differ from PORT and METRICS_PORT`);
  }

  const shutdownDelayMs = integer('SHUTDOWN_DELAY_MS', DEFAULTS.shutdownDelayMs, 0, 600_000) ?? DEFAULTS.shutdownDelayMs;
  const shutdownTimeoutMs =
    integer('SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, 1, 600_000) ?? DEFAULTS.shutdownTimeoutMs;

  const rateLimitMax = integer('RATE_LIMIT_MAX', DEFAULTS.rateLimitMax, 1, 1_000_000) ?? DEFAULTS.rateLimitMax;
  const rateLimitWindowMs =
    integer('RATE_LIMIT_WINDOW_MS', DEFAULTS.rateLimitWindowMs, 1, 86_400_000) ?? DEFAULTS.rateLimitWindowMs;

  const rateLimitMaxClients =
    integer('RATE_LIMIT_MAX_CLIENTS', DEFAULTS.rateLimitMaxClients, 1, 10_000_000) ?? DEFAULTS.rateLimitMaxClients;

  const ms = (name: string, fallback: number) => integer(name, fallback, 1, 3_600_000) ?? fallback;
  const limits: Limits = {
    headersTimeoutMs: ms('HEADERS_TIMEOUT_MS', DEFAULTS.headersTimeoutMs),
    requestTimeoutMs: ms('REQUEST_TIMEOUT_MS', DEFAULTS.requestTimeoutMs),
    idleTimeoutMs: ms('IDLE_TIMEOUT_MS', DEFAULTS.idleTimeoutMs),
    keepAliveTimeoutMs: ms('KEEP_ALIVE_TIMEOUT_MS', DEFAULTS.keepAliveTimeoutMs),
    maxConnections: integer('MAX_CONNECTIONS', DEFAULTS.maxConnections, 1, 1_000_000) ?? DEFAULTS.maxConnections,
    maxConnectionsPerIp:
      integer('MAX_CONNECTIONS_PER_IP', DEFAULTS.maxConnectionsPerIp, 1, 1_000_000) ?? DEFAULTS.maxConnectionsPerIp,
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', DEFAULTS.bodyLimitBytes, 0, 1_073_741_824) ?? DEFAULTS.bodyLimitBytes,
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push(`HEADERS_TIMEOUT_MS=${limits.headersTimeoutMs} must not exceed REQUEST_TIMEOUT_MS=${limits.requestTimeoutMs} (the headers are part of the request)`);
  }

  const trustProxy = parseTrustProxy(get('TRUST_PROXY'), problems);

  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return {
    port: httpPort,
    host,
    logLevel: logLevel as LogLevel,
    secretsDir,
    shutdownDelayMs,
    shutdownTimeoutMs,
    rateLimit: { max: rateLimitMax, windowMs: rateLimitWindowMs, maxClients: rateLimitMaxClients },
    limits,
    metricsPort,
    probePort,
    trustProxy,
  };
}

function parseTrustProxy(raw: string | undefined, problems: string[]): Config['trustProxy'] {
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (/^\d+$/.test(raw)) {
    problems.push(
      `TRUST_PROXY=${shown(raw)}: a hop count would trust any caller that reaches the service directly; list the addresses or CIDRs the proxy connects from (e.g. 10.0.0.0/8)`,
    );
    return false;
  }
  const entries = raw.split(',').map((s) => s.trim());
  const bad = entries.filter((entry) => {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return false;
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return true;
    return prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
  });
  if (bad.length > 0) {
    problems.push(
      `TRUST_PROXY=${shown(raw)} must be a comma-separated list of IP addresses or CIDRs (bad: ${bad.join(', ')}); "true" is not accepted: it would let any client choose its own IP`,
    );
  }
  return entries;
}
