// The second reference, the practical limit: node:http doing the route work of bench/bare-server.mjs plus
// everything the emitted service's server (src/http-server.ts) does per connection and per request, written
// by hand with no framework:
// - per connection: the timeouts of every phase (headers, request, idle, keep-alive) and the connection caps
//   (in all, and per address), with the connection's state kept for them;
// - per request: the client address (an IPv4-mapped address unmapped), a request id, helmet's headers
//   (computed once), the checks made before any body is read (Host header, a decodable path, body limit,
//   content encoding, charset), a per-client fixed-window rate-limit counter (IPv6 by its /56) in a store
//   capped at RATE_LIMIT_MAX_CLIENTS (least recently seen evicted) with its RateLimit headers (not on
//   probes), and, when the response closes, one pino JSON line in UTC with the same options (probes at
//   debug, so not written at LOG_LEVEL=info) and a metrics observation.
// It answers what the hardening refuses with a short JSON error, and leaves out what only hostile or
// shutting-down traffic exercises (lingering after an early answer, the drain sweep). It runs in a built
// service's folder: helmet and pino are that service's, from its node_modules.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { answer, PROBES, send, serve } from './route-work.mjs';

const fromService = createRequire(join(process.cwd(), 'package.json'));
const helmet = fromService('helmet');
const { pino } = fromService('pino');
const env = (name, fallback) => Number(process.env[name] ?? fallback);
const LIMIT = env('RATE_LIMIT_MAX', 100);
const WINDOW_MS = env('RATE_LIMIT_WINDOW_MS', 60_000);
const MAX_CLIENTS = env('RATE_LIMIT_MAX_CLIENTS', 10_000);
const BODY_LIMIT = env('BODY_LIMIT_BYTES', 1_048_576);
const MAX_PER_IP = env('MAX_CONNECTIONS_PER_IP', 100);
const POLICY = `${LIMIT};w=${Math.ceil(WINDOW_MS / 1000)}`;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: 'bare-hardened' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // The service's list (src/logger.ts).
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
        'headers.authorization', 'headers.cookie', 'headers["proxy-authorization"]', 'headers["x-api-key"]',
      ],
      censor: '[redacted]',
    },
  },
  pino.destination({ dest: 1, sync: true }),
);
const securityHeaders = [];
helmet()({}, { setHeader: (name, value) => securityHeaders.push([name.toLowerCase(), String(value)]), removeHeader() {} }, () => {});
const windows = new Map();
const requests = new Map();
const bucketCounts = BUCKETS.map(() => 0);
let draining = false;

const unmapped = (address = '') => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** IPv4 as is, IPv6 by its /56 (the first three groups and the high byte of the fourth). */
function rateLimitKey(ip) {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right].map((g) => Number.parseInt(g, 16) || 0);
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}:${(groups[3] & 0xff00).toString(16)}::/56`;
}

function rateLimited(ip, res) {
  const now = Date.now();
  const key = rateLimitKey(ip);
  let w = windows.get(key);
  if (w === undefined) {
    w = { count: 0, resetAt: now + WINDOW_MS };
    if (windows.size >= MAX_CLIENTS) windows.delete(windows.keys().next().value);
  } else {
    windows.delete(key);
    if (now >= w.resetAt) Object.assign(w, { count: 0, resetAt: now + WINDOW_MS });
  }
  w.count += 1;
  windows.set(key, w);
  res.setHeader('ratelimit-policy', POLICY);
  res.setHeader('ratelimit', `limit=${LIMIT}, remaining=${Math.max(0, LIMIT - w.count)}, reset=${Math.ceil((w.resetAt - now) / 1000)}`);
  return w.count > LIMIT;
}

/** What the service refuses before reading a body: [status, error] or undefined. */
function refused(req, path) {
  if (req.headers.host === undefined && req.httpVersion === '1.1') return [400, 'bad_request'];
  if (path.includes('%')) {
    try {
      decodeURIComponent(path);
    } catch {
      return [400, 'bad_request'];
    }
  }
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > BODY_LIMIT) return [413, 'payload_too_large'];
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return [415, 'unsupported_media_type'];
  const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return [415, 'unsupported_media_type'];
  return undefined;
}

function record(req, res, connection, ip, id, path, started) {
  connection.response = undefined;
  connection.idleMark = req.socket.bytesRead;
  connection.since = performance.now();
  const durationMs = connection.since - started;
  const key = `${METHODS.has(req.method) ? req.method : 'OTHER'} ${res.statusCode}`;
  requests.set(key, (requests.get(key) ?? 0) + 1);
  for (let i = 0; i < BUCKETS.length; i++) if (durationMs / 1000 <= BUCKETS[i]) bucketCounts[i] += 1;
  const level = res.statusCode >= 500 ? 'error' : PROBES.has(path) && res.statusCode < 400 ? 'debug' : 'info';
  const line = { reqId: id, ip, method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 };
  if (!res.writableFinished) line.aborted = true;
  logger[level](line, 'request');
}

const server = createServer({
  headersTimeout: env('HEADERS_TIMEOUT_MS', 5_000),
  requestTimeout: env('REQUEST_TIMEOUT_MS', 8_000),
  keepAliveTimeout: env('KEEP_ALIVE_TIMEOUT_MS', 72_000),
  connectionsCheckingInterval: 500,
  requireHostHeader: false,
});
server.timeout = env('IDLE_TIMEOUT_MS', 5_000);
server.maxConnections = env('MAX_CONNECTIONS', 1_000);

// Open connections (the service sweeps them while draining, when Node no longer checks their timeouts), by address.
const sockets = new Set();
const perIp = new Map();
const kConnection = Symbol('connection');
server.on('connection', (socket) => {
  socket[kConnection] = { response: undefined, idleMark: 0, since: performance.now() };
  const ip = unmapped(socket.remoteAddress);
  const open = (perIp.get(ip) ?? 0) + 1;
  if (open > MAX_PER_IP) return socket.destroy();
  perIp.set(ip, open);
  sockets.add(socket);
  socket.once('close', () => {
    sockets.delete(socket);
    const left = perIp.get(ip) - 1;
    if (left === 0) perIp.delete(ip);
    else perIp.set(ip, left);
  });
});
server.on('timeout', (socket) => socket.destroy());
server.on('clientError', (_err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  else socket.destroy();
});
server.on('request', (req, res) => {
  const started = performance.now();
  const connection = req.socket[kConnection];
  connection.response = res;
  const ip = unmapped(req.socket.remoteAddress);
  const header = req.headers['x-request-id'];
  const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
  for (const [name, value] of securityHeaders) res.setHeader(name, value);
  res.setHeader('x-request-id', id);
  if (draining) res.setHeader('connection', 'close');
  const url = new URL(req.url, 'http://localhost');
  res.once('close', () => record(req, res, connection, ip, id, url.pathname, started));
  const refusal = refused(req, url.pathname);
  if (refusal) return send(res, refusal[0], { error: refusal[1], message: 'refused' });
  answer(url, res, () => rateLimited(ip, res) && (send(res, 429, { error: 'too_many_requests', message: 'rate limit exceeded' }), true));
});
process.once('SIGTERM', () => (draining = true));
serve(server);
