import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import helmet from 'helmet';
import { clientAddress, connectionsPerAddress, proxyTrust, rateLimitKey, unmapped, type ClientAddress } from './client-address.ts';
import { type AppOptions, clientRequestId, errorBody, PROBE_PATHS, recordRequest } from './http-service.ts';
import { PIPELINE_QUEUE, PipelineGate } from './pipeline.ts';
import { RateLimiter, type Window } from './rate-limiter.ts';

// Not `import { … } from 'node:http'`: importing a built-in as an ES module reads all of its exports, and reading
// http.WebSocket loads undici: a tenth of the start-up's work (and its memory) for nothing.
const { createServer, STATUS_CODES } = process.getBuiltinModule('node:http');

/**
 * The node:http server under both frameworks. Everything a hostile client can do to a connection is handled
 * here, the same for Fastify and Express, before the framework sees the request:
 * - every phase of a connection has a timeout (config.limits), and connections are capped in all and per address;
 * - every request gets the security headers, a request id, its client address and exactly one log line,
 *   including those answered here (rate limit, body limit) and those Node's parser rejects (clientError);
 * - requests over the rate limit or the body limit are answered before any body is read or parsed;
 * - draining closes idle connections as they become idle; at the deadline, closeAll() closes the rest.
 */
export interface HttpServer {
  server: Server;
  /** Stops accepting; closes each connection once it is idle; resolves when all are closed. */
  close(): Promise<void>;
  /** Closes every connection now; resolves, once their log lines are written, to the ids of requests cut short. */
  closeAll(): Promise<string[]>;
}

/** After answering a request whose body is still arriving, how long the rest is read and dropped before closing. */
const LINGER_MS = 1_000;
/** How often Node checks the headers and request timeouts (and this server does, while draining): they fire at most this late. */
const TIMEOUT_CHECK_INTERVAL_MS = 500;
/** How often draining closes connections that became idle. */
const DRAIN_CHECK_INTERVAL_MS = 250;
const JSON_TYPE = 'application/json; charset=utf-8';
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

const kRequest = Symbol('request');
const kConnection = Symbol('connection');

interface RequestState {
  id: string;
  client: ClientAddress;
}

interface ConnectionState {
  /** The response under way on this connection, if any. */
  response?: ServerResponse;
  request?: IncomingMessage;
  /** Bytes read when the connection was last idle: more since then means a request has started. */
  idleMark: number;
  /** When the connection was opened or its last response ended (performance.now()). */
  since: number;
  /** Answered by clientError: the parser reports every later chunk too. */
  rejected?: boolean;
  /** An answer went out before its request was read: nothing after it on this connection is run. */
  closing?: boolean;
  /** How many of this connection's requests run at once, and whether it is read meanwhile. */
  pipeline: PipelineGate;
}

type TrackedRequest = IncomingMessage & { [kRequest]?: RequestState };
/** An answer the server gives itself instead of the app's: status and message. */
type Refusal = [number, string] | undefined;
type TrackedSocket = Socket & { [kConnection]?: ConnectionState };

/** The request id given to a request (for Fastify's genReqId and for log lines written by the app). */
export function requestIdOf(req: IncomingMessage): string {
  return (req as TrackedRequest)[kRequest]?.id ?? randomUUID();
}

/**
 * Helmet's headers, computed once: its default policy is the same on every response, so it is also what the
 * responses written here without a framework (client errors) carry.
 */
function securityHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = { setHeader: (name: string, value: unknown) => headers.push([name.toLowerCase(), String(value)]), removeHeader() {} };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/** Status and client message for an error of Node's HTTP parser; never the input itself. */
function clientErrorAnswer(code: string | undefined): [number, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request timeout'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'request headers too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'request body too large'];
    default:
      return [400, 'malformed request'];
  }
}

export function createHttpServer(
  { config, logger, lifecycle, metrics, rateLimitStore }: AppOptions,
  app: (req: IncomingMessage, res: ServerResponse) => void,
): HttpServer {
  const { limits } = config;
  const headers = securityHeaders();
  const trusted = proxyTrust(config.trustProxy);
  const limiter = rateLimitStore ?? new RateLimiter(config.rateLimit);
  metrics.rateLimitStore = limiter;
  const policy = `${limiter.max};w=${Math.ceil(limiter.windowMs / 1000)}`;
  const inflight = new Set<ServerResponse>();
  const cutAtDeadline = new WeakSet<ServerResponse>();

  const server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    // Checked below instead, so that the 400 gets the app's body, headers and log line.
    requireHostHeader: false,
  });
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;

  const answer = (res: ServerResponse, status: number, message: string) => {
    const body = JSON.stringify(errorBody(status, message));
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) }).end(body);
  };

  /** The rate limit's headers, and its refusal when the window's count is over the limit. */
  const limited = (res: ServerResponse, window: Window, now: number): Refusal => {
    const reset = Math.ceil((window.resetAt - now) / 1000);
    res.setHeader('ratelimit-policy', policy);
    res.setHeader('ratelimit', `limit=${limiter.max}, remaining=${Math.max(0, limiter.max - window.count)}, reset=${reset}`);
    if (window.count <= limiter.max) return undefined;
    res.setHeader('retry-after', reset);
    return [429, `rate limit exceeded: retry in ${reset} seconds`];
  };

  /**
   * The reason to answer a request here rather than in the app, if any. Counts it against the rate limit: a shared
   * store answers later (a promise, bounded by its own timeout), the memory store at once.
   */
  const refusal = (req: IncomingMessage, res: ServerResponse, client: ClientAddress): Refusal | Promise<Refusal> => {
    // Node's parser takes a request line without a version (GET /path) as HTTP/0.9.
    if (req.httpVersionMajor !== 1) return [400, 'an HTTP/1.x request line is required'];
    if (req.headers.host === undefined && req.httpVersion === '1.1') return [400, 'a Host header is required'];
    // Node keeps the first of two Host headers: a proxy in front may have routed by the other one.
    if (hostHeaders(req) > 1) return [400, 'exactly one Host header is required'];
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path.includes('%') && !decodable(path)) return [400, 'malformed URL'];
    if (PROBE_PATHS.has(path)) return requestRefusal(req);
    const now = Date.now();
    const window = limiter.hit(rateLimitKey(client.ip), now);
    if (window instanceof Promise) return window.then((counted) => limited(res, counted, now) ?? requestRefusal(req));
    return limited(res, window, now) ?? requestRefusal(req);
  };

  /** What is wrong with the request's body, as its headers announce it. */
  const requestRefusal = (req: IncomingMessage): Refusal => {
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > limits.bodyLimitBytes) return [413, 'request body too large'];
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return [415, 'content-encoding not supported: send the body as is'];
    const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return [415, 'charset not supported: send UTF-8'];
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, refused?: [number, string], expectsContinue = false) => {
    const started = performance.now();
    const socket = req.socket as TrackedSocket;
    const connection = socket[kConnection];
    if (!connection) return run(req, res, started, refused, expectsContinue);
    // Sent after an answer that said Connection: close: its answer could not be delivered, so it is not run.
    if (connection.closing) return;
    if (!connection.pipeline.admit(() => run(req, res, started, refused, expectsContinue))) {
      connection.closing = true;
      socket.destroy();
      logger.warn({ ip: unmapped(socket.remoteAddress ?? ''), limit: PIPELINE_QUEUE }, 'connection closed: too many pipelined requests ahead of their answers');
    }
  };

  const run = (req: IncomingMessage, res: ServerResponse, started: number, refused?: [number, string], expectsContinue = false) => {
    const socket = req.socket as TrackedSocket;
    const connection = socket[kConnection];
    if (connection && hasBody(req)) closeIfAnsweredEarly(req, res, socket, connection);
    const client = clientAddress(socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
    const id = randomUUID();
    (req as TrackedRequest)[kRequest] = { id, client };
    for (const [name, value] of headers) res.setHeader(name, value);
    res.setHeader('x-request-id', id);
    // While draining, tell keep-alive clients to reconnect (to a pod that is not going away).
    if (lifecycle.shuttingDown) res.setHeader('connection', 'close');
    inflight.add(res);
    if (connection) {
      connection.response = res;
      connection.request = req;
    }
    res.once('close', () => {
      inflight.delete(res);
      connection?.pipeline.done();
      if (connection?.response === res) {
        connection.response = undefined;
        connection.request = undefined;
        connection.idleMark = socket.bytesRead;
        connection.since = performance.now();
      }
      recordRequest(logger, metrics, {
        reqId: id,
        clientReqId: clientRequestId(req.headers['x-request-id']),
        ip: client.ip,
        ipNote: client.note,
        method: req.method,
        url: req.url,
        status: res.statusCode,
        durationMs: performance.now() - started,
        // A cut response may still be "finished" by the app writing into the closed socket.
        aborted: !res.writableFinished || cutAtDeadline.has(res),
        reason: cutAtDeadline.has(res) ? 'cut at the drain deadline' : undefined,
      });
      // Answered before its body arrived (a refusal, or a route that takes none): do not read the rest.
      if (res.writableFinished && !req.complete) lingerAndClose(socket);
    });
    const proceed = (reason: Refusal) => {
      if (reason) return answer(res, ...reason);
      if (expectsContinue) res.writeContinue();
      app(req, res);
    };
    const reason = refused ?? refusal(req, res, client);
    if (reason instanceof Promise) void reason.then(proceed);
    else proceed(reason);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => handle(req, res));
  // Node answers these itself unless asked; here they get the app's hardening like any other request.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handle(req, res, undefined, true));
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    handle(req, res, [417, 'only "Expect: 100-continue" is supported']),
  );

  /** Writes an answer straight to a socket that has no response object (a parser error, CONNECT), and closes it. */
  const answerRaw = (socket: Socket, status: number, message: string, record: { method?: string; url?: string; reason?: string }) => {
    const id = randomUUID();
    const body = JSON.stringify(errorBody(status, message));
    const head = [
      ...headers,
      ['x-request-id', id],
      ['date', new Date().toUTCString()],
      ['content-type', JSON_TYPE],
      ['content-length', String(Buffer.byteLength(body))],
      ['connection', 'close'],
    ];
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body}`);
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    const since = (socket as TrackedSocket)[kConnection]?.since;
    recordRequest(logger, metrics, {
      reqId: id,
      ip: unmapped(socket.remoteAddress ?? ''),
      status,
      durationMs: since === undefined ? 0 : performance.now() - since,
      ...record,
    });
  };

  /** Answers a request Node's parser rejected or that timed out, outside any framework. */
  const reject = (socket: TrackedSocket, code: string | undefined) => {
    const connection = socket[kConnection];
    if (connection?.rejected) return;
    if (connection) connection.rejected = true;
    const [status, message] = clientErrorAnswer(code);
    const res = connection?.response;
    if (res && connection?.request?.complete) {
      // The error is in a request pipelined after this one: finish this one, then close.
      if (!res.headersSent) res.setHeader('connection', 'close');
    } else if (res) {
      // The request itself is broken or late, and has its own log line: answer through it, unless its answer has begun.
      if (res.headersSent) {
        socket.destroy();
      } else {
        res.setHeader('connection', 'close');
        answer(res, status, message);
      }
    } else if (!socket.writable || code === 'ECONNRESET' || socket.bytesRead === connection?.idleMark) {
      // Nothing of a request arrived (a connection opened and left silent), or the client is gone: nothing to answer.
      socket.destroy();
    } else {
      answerRaw(socket, status, message, { reason: code });
    }
  };

  server.on('clientError', (err: NodeJS.ErrnoException, socket: TrackedSocket) => reject(socket, err.code));
  // Node would close a CONNECT silently: this is not a proxy, say so, and log it like any request.
  server.on('connect', (req: IncomingMessage, socket: Socket) =>
    answerRaw(socket, 405, 'CONNECT is not supported', { method: req.method, url: req.url }),
  );

  // IDLE_TIMEOUT_MS: nothing received or sent for that long.
  server.on('timeout', (socket: TrackedSocket) => {
    const connection = socket[kConnection];
    const res = connection?.response;
    if (res === undefined) {
      // Part of a request has arrived: that request timed out. Otherwise the connection is just idle.
      if (connection && socket.bytesRead > connection.idleMark) reject(socket, 'ERR_HTTP_REQUEST_TIMEOUT');
      else socket.destroy();
    } else if (!res.headersSent && connection?.request?.complete) {
      // The request is complete and the app is working on it: not a stalled client.
    } else if (!res.headersSent) {
      reject(socket, 'ERR_HTTP_REQUEST_TIMEOUT');
    } else {
      // The client stopped reading the response.
      socket.destroy();
    }
  });

  const sockets = new Set<TrackedSocket>();
  const admit = connectionsPerAddress(limits.maxConnectionsPerIp);
  server.on('connection', (socket: TrackedSocket) => {
    socket[kConnection] = { idleMark: 0, since: performance.now(), pipeline: new PipelineGate(socket, limits.idleTimeoutMs) };
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const ip = unmapped(socket.remoteAddress ?? '');
    // A trusted proxy carries many clients: only MAX_CONNECTIONS applies to it.
    if (trusted?.(ip)) return;
    if (!admit(ip, socket)) {
      socket.destroy();
      logger.warn({ ip, limit: limits.maxConnectionsPerIp }, 'connection refused: MAX_CONNECTIONS_PER_IP reached');
    }
  });
  server.on('drop', (dropped?: { remoteAddress?: string }) =>
    logger.warn({ ip: unmapped(dropped?.remoteAddress ?? ''), limit: limits.maxConnections }, 'connection refused: MAX_CONNECTIONS reached'),
  );

  return {
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Connections that finish a request while we drain become idle: close those too, until all are gone.
        // server.close() also stops Node's checks of the headers and request timeouts, so they are applied
        // here until the end, counted from when the connection opened or last answered (stricter than Node).
        server.closeIdleConnections();
        const sweep = setInterval(() => {
          server.closeIdleConnections();
          const now = performance.now();
          for (const socket of sockets) {
            const connection = socket[kConnection];
            if (connection === undefined || socket.bytesRead === connection.idleMark) continue;
            const late = connection.response
              ? !connection.request?.complete && now - connection.since > limits.requestTimeoutMs
              : now - connection.since > limits.headersTimeoutMs;
            if (late) reject(socket, 'ERR_HTTP_REQUEST_TIMEOUT');
          }
        }, DRAIN_CHECK_INTERVAL_MS);
        server.once('close', () => clearInterval(sweep));
      }),
    async closeAll() {
      const cut = [...inflight].filter((res) => !res.writableFinished);
      const logged = cut.map((res) => new Promise((resolve) => res.once('close', resolve)));
      for (const res of cut) cutAtDeadline.add(res);
      server.closeAllConnections();
      await Promise.all(logged);
      return cut.map((res) => String(res.getHeader('x-request-id')));
    },
  };
}

function hostHeaders(req: IncomingMessage): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') count++;
  return count;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * An answer that starts before its request's body has all arrived (a refusal, a route that takes no body) says
 * Connection: close: what the client sends next on this connection would be parsed out of the unread body's
 * stream, and a proxy would pool the connection for another client's request. Node ends such a connection once
 * the answer is written; it lingers instead, so that the answer is not lost to a reset.
 */
function closeIfAnsweredEarly(req: IncomingMessage, res: ServerResponse, socket: Socket, connection: ConnectionState): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete) {
      connection.closing = true;
      this.setHeader('connection', 'close');
      socket.destroySoon = () => lingerAndClose(socket);
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Ends our side, reads and drops what the client still sends for LINGER_MS, then closes: the answer is not lost to a reset. */
function lingerAndClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
