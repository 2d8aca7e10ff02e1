import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { greet } from './greeting.ts';
import {
  type AppOptions,
  errorBody,
  type HttpService,
  KEEP_ALIVE_TIMEOUT_MS,
  readiness,
  recordRequest,
  requestId,
  statusOf,
} from './http-service.ts';

/** The Express application: security headers, rate limiting, one log line per request, the routes. */
export function createHttpService({ config, logger, lifecycle, metrics }: AppOptions): HttpService {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: Express would hash every JSON body (SHA-1) for conditional GETs that API clients do not make.
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const reqId = requestId(req.headers['x-request-id']);
    res.setHeader('x-request-id', reqId);
    // While draining, tell keep-alive clients to reconnect (to a pod that is not going away).
    if (lifecycle.shuttingDown) res.setHeader('connection', 'close');
    res.once('close', () =>
      recordRequest(logger, metrics, {
        reqId,
        ip: req.ip,
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        aborted: !res.writableFinished,
      }),
    );
    next();
  });
  app.use(helmet());

  // Probes come before the rate limiter: kubelet must always get through.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const { status, body } = readiness(lifecycle);
    res.status(status).json(body);
  });

  app.use(
    rateLimit({
      windowMs: config.rateLimit.windowMs,
      limit: config.rateLimit.max,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_req, res, _next, options) => {
        res.status(429).json(errorBody(429, `rate limit exceeded: retry in ${Math.ceil(options.windowMs / 1000)} seconds`));
      },
    }),
  );

  app.get('/hello', (req, res) => {
    const greeting = greet(req.query.name);
    if (!greeting.ok) {
      res.status(400).json(errorBody(400, greeting.message));
      return;
    }
    res.json({ message: greeting.message });
  });

  app.use((_req, res) => {
    res.status(404).json(errorBody(404, 'no such route'));
  });
  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = statusOf(err);
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(status).json(errorBody(status, err instanceof Error ? err.message : undefined));
  });

  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Connections that finish a request while we drain become idle: close those too, until all are gone.
        server.closeIdleConnections();
        const sweep = setInterval(() => server.closeIdleConnections(), 250);
        server.once('close', () => clearInterval(sweep));
      }),
  };
}
