import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/**
 * What every framework's src/app.ts provides, and the pieces of request handling both frameworks share.
 * server.ts and the tests only talk to this interface, so they are the same for Fastify and Express.
 */
export interface AppOptions {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  metrics: Metrics;
}

export interface HttpService {
  /** Starts accepting connections; resolves to the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections. */
  close(): Promise<void>;
}

/** Longer than the idle timeout of common load balancers (60 s), so that they close connections first. */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface ErrorBody {
  error: string;
  message: string;
}

const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

/**
 * The JSON body of every error response. Server errors always get the same generic message: the details
 * (and the stack) go to the log, never to the client.
 */
export function errorBody(status: number, clientMessage?: string): ErrorBody {
  if (status >= 500) return { error: ERROR_CODES[status] ?? 'internal_error', message: 'internal server error' };
  return { error: ERROR_CODES[status] ?? 'client_error', message: clientMessage ?? 'request not valid' };
}

export function statusOf(err: unknown): number {
  const e = err as { statusCode?: unknown; status?: unknown } | null;
  const status = Number(e?.statusCode ?? e?.status);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

export function readiness(lifecycle: Lifecycle): { status: 200 | 503; body: { status: string } } {
  return lifecycle.ready
    ? { status: 200, body: { status: 'ready' } }
    : { status: 503, body: { status: lifecycle.shuttingDown ? 'shutting_down' : 'starting' } };
}

/** Keeps a caller's X-Request-Id when it is a sane token (for tracing across services), else makes one. */
export function requestId(header: unknown): string {
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
}

export const PROBE_PATHS = new Set(['/healthz', '/readyz']);

export interface RequestRecord {
  reqId: string;
  ip: string | undefined;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  /** The client went away before the response was complete. */
  aborted?: boolean;
}

/**
 * One log line and one metrics observation per request. The query string is left out of the log (it
 * may hold tokens); successful probe requests are logged at debug level so kubelet does not flood the logs.
 */
export function recordRequest(logger: Logger, metrics: Metrics, r: RequestRecord): void {
  const path = r.url.split('?')[0] ?? r.url;
  const durationMs = Math.round(r.durationMs * 100) / 100;
  metrics.observeRequest(r.method, r.status, r.durationMs);
  const level = r.status >= 500 ? 'error' : PROBE_PATHS.has(path) && r.status < 400 ? 'debug' : 'info';
  logger[level](
    { reqId: r.reqId, ip: r.ip, method: r.method, path, status: r.status, durationMs, ...(r.aborted ? { aborted: true } : {}) },
    'request',
  );
}
