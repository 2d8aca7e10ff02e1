// The second reference: node:http doing the route work of bench/bare-server.mjs plus the emitted service's
// hardening, written by hand with no framework: helmet's headers (computed once), a request id, a per-IP
// fixed-window rate-limit counter in a store capped at RATE_LIMIT_MAX_CLIENTS (least recently seen evicted)
// with its RateLimit headers (not on probes), one pino JSON line per request in UTC (probes at debug, so not
// written at LOG_LEVEL=info) and a metrics observation. It runs in a built service's folder: helmet and pino
// are that service's, from its node_modules.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { answer, PROBES, send, serve } from './route-work.mjs';

const fromService = createRequire(join(process.cwd(), 'package.json'));
const helmet = fromService('helmet');
const { pino } = fromService('pino');
const LIMIT = Number(process.env.RATE_LIMIT_MAX ?? 100);
const WINDOW_MS = Number(process.env.RATE_LIMIT_WINDOW_MS ?? 60_000);
const MAX_CLIENTS = Number(process.env.RATE_LIMIT_MAX_CLIENTS ?? 10_000);
const POLICY = `${LIMIT};w=${Math.ceil(WINDOW_MS / 1000)}`;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: 'bare-hardened' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.destination({ dest: 1, sync: true }),
);
const securityHeaders = [];
helmet()({}, { setHeader: (name, value) => securityHeaders.push([name, value]), removeHeader() {} }, () => {});
const windows = new Map();
const requests = new Map();
const bucketCounts = BUCKETS.map(() => 0);

function rateLimited(req, res) {
  const now = Date.now();
  const ip = req.socket.remoteAddress;
  let w = windows.get(ip);
  if (w === undefined) {
    w = { count: 0, resetAt: now + WINDOW_MS };
    if (windows.size >= MAX_CLIENTS) windows.delete(windows.keys().next().value);
  } else {
    windows.delete(ip);
    if (now >= w.resetAt) Object.assign(w, { count: 0, resetAt: now + WINDOW_MS });
  }
  w.count += 1;
  windows.set(ip, w);
  res.setHeader('ratelimit-policy', POLICY);
  res.setHeader('ratelimit', `limit=${LIMIT}, remaining=${Math.max(0, LIMIT - w.count)}, reset=${Math.ceil((w.resetAt - now) / 1000)}`);
  return w.count > LIMIT;
}

function record(req, res, path, started) {
  const durationMs = performance.now() - started;
  const key = `${req.method} ${res.statusCode}`;
  requests.set(key, (requests.get(key) ?? 0) + 1);
  BUCKETS.forEach((le, i) => {
    if (durationMs / 1000 <= le) bucketCounts[i] += 1;
  });
  const level = PROBES.has(path) && res.statusCode < 400 ? 'debug' : 'info';
  logger[level]({ reqId: res.getHeader('x-request-id'), ip: req.socket.remoteAddress, method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 }, 'request');
}

serve(
  createServer((req, res) => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    res.setHeader('x-request-id', typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID());
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    const url = new URL(req.url, 'http://localhost');
    res.once('finish', () => record(req, res, url.pathname, started));
    answer(url, res, () => rateLimited(req, res) && (send(res, 429, { error: 'too_many_requests', message: 'rate limit exceeded' }), true));
  }),
);
