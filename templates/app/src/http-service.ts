import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimitStore } from './rate-limiter.ts';

/**
 * What every framework's src/app.ts provides, and the pieces of request handling both frameworks share.
 * server.ts and the tests only talk to this interface, so they are the same for Fastify and Express.
 */
export interface AppOptions {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  metrics: Metrics;
  /** A rate-limit store shared by every replica; without one, each process counts in its own memory. */
  rateLimitStore?: RateLimitStore;
}

/** What /readyz answers: the service's own state and, where it has one, its database's. */
export type Readiness = () => { status: 200 | 503; body: { status: string } } | Promise<{ status: 200 | 503; body: { status: string } }>;

export interface HttpService {
  /** Starts accepting connections; resolves to the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes keep-alive connections as they become idle. */
  close(): Promise<void>;
  /** At the drain deadline: closes every connection still open; resolves to the ids of requests cut short. */
  closeAll(): Promise<string[]>;
  /** What /readyz answers, for the probe listener (probe-server.ts) too. */
  readiness: Readiness;
}

export interface ErrorBody {
  error: string;
  message: string;
}

const ERRORS: Record<number, [code: string, message: string]> = {
  400: ['bad_request', 'request not valid'],
  404: ['not_found', 'no such route'],
  405: ['method_not_allowed', 'method not allowed'],
  408: ['request_timeout', 'request timeout'],
  413: ['payload_too_large', 'request body too large'],
  415: ['unsupported_media_type', 'unsupported media type: send application/json'],
  417: ['expectation_failed', 'expectation not supported'],
  429: ['too_many_requests', 'rate limit exceeded'],
  431: ['headers_too_large', 'request headers too large'],
  503: ['unavailable', 'internal server error'],
};

/**
 * The JSON body of every error response. `clientMessage` comes from the app's own code, never from an error
 * a library raised: those messages may quote the request (a path, a header, part of a body). Server errors
 * always get the same generic message: the details (and the stack) go to the log, never to the client.
 */
export function errorBody(status: number, clientMessage?: string): ErrorBody {
  const [error, message] = ERRORS[status] ?? (status >= 500 ? ['internal_error', ''] : ['client_error', 'request not valid']);
  if (status >= 500) return { error, message: 'internal server error' };
  return { error, message: clientMessage ?? message };
}

/** The status of an error thrown by a framework or a library (`statusCode` or `status`), else 500. */
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

/**
 * A caller's X-Request-Id, when it is a sane token: logged as `clientReqId` (for tracing across services), never
 * as the request's own id, which is always made here, so that no client can give its request another one's id.
 */
export function clientRequestId(header: unknown): string | undefined {
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : undefined;
}

export const PROBE_PATHS = new Set(['/healthz', '/readyz']);

export interface RequestRecord {
  reqId: string;
  /** The caller's own X-Request-Id, if it sent a sane one. */
  clientReqId?: string | undefined;
  ip: string;
  /** Why the forwarded address was not used (see client-address.ts). */
  ipNote?: string | undefined;
  /** Absent when Node's parser rejected the request before knowing them. */
  method?: string | undefined;
  url?: string | undefined;
  status: number;
  durationMs: number;
  /** The response was not complete when the connection closed (client gone, or cut at the drain deadline). */
  aborted?: boolean;
  /** Why the request ended as it did when that is not its status: the parser's error code, or the drain deadline. */
  reason?: string | undefined;
}

/**
 * One log line and one metrics observation per request. The query string is left out of the log (it
 * may hold tokens); successful probe requests are logged at debug level so kubelet does not flood the logs.
 */
export function recordRequest(logger: Logger, metrics: Metrics, r: RequestRecord): void {
  const path = r.url === undefined ? null : (r.url.split('?')[0] ?? r.url);
  const durationMs = Math.round(r.durationMs * 100) / 100;
  metrics.observeRequest(r.method ?? '', r.status, r.durationMs);
  const level = r.status >= 500 ? 'error' : path !== null && PROBE_PATHS.has(path) && r.status < 400 ? 'debug' : 'info';
  logger[level](
    {
      reqId: r.reqId,
      ip: r.ip,
      method: r.method ?? null,
      path,
      status: r.status,
      durationMs,
      ...(r.clientReqId ? { clientReqId: r.clientReqId } : {}),
      ...(r.aborted ? { aborted: true } : {}),
      ...(r.ipNote ? { ipNote: r.ipNote } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    },
    'request',
  );
}
