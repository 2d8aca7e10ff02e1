import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { greet, greetBody } from './greeting.ts';
import { type AppOptions, errorBody, type HttpService, readiness, statusOf } from './http-service.ts';
import { createHttpServer, requestIdOf } from './http-server.ts';

/**
 * The Express application: the routes, and errors answered in the app's shape. Timeouts, connection limits,
 * security headers, request ids, rate limiting, the body limit and the request log are the server's
 * (http-server.ts), the same as for Fastify.
 */
export function createHttpService(options: AppOptions): HttpService {
  const { config, lifecycle, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  // No ETag: Express would hash every JSON body (SHA-1) for conditional GETs that API clients do not make.
  app.disable('etag');
  // For req.protocol and req.hostname (and req.ip, unvalidated). The client address of the request log and the
  // rate limit is validated by http-server.ts.
  app.set('trust proxy', config.trustProxy);

  // Bodies are parsed only by the routes that take one: JSON, at most BODY_LIMIT_BYTES, never compressed.
  const json = [
    (req: Request, res: Response, next: NextFunction) => {
      // req.is() is null without a body, false for another media type.
      if (req.is('application/json') === false) res.status(415).json(errorBody(415));
      else next();
    },
    express.json({ limit: config.limits.bodyLimitBytes, inflate: false }),
  ];

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const { status, body } = readiness(lifecycle);
    res.status(status).json(body);
  });
  app.get('/hello', (req, res) => {
    const greeting = greet(req.query.name);
    if (!greeting.ok) {
      res.status(400).json(errorBody(400, greeting.message));
      return;
    }
    res.json({ message: greeting.message });
  });
  app.post('/hello', ...json, (req, res) => {
    const greeting = greetBody(req.body);
    if (!greeting.ok) {
      res.status(400).json(errorBody(400, greeting.message));
      return;
    }
    res.json({ message: greeting.message });
  });

  app.use((_req, res) => {
    res.status(404).json(errorBody(404));
  });
  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(err);
    if (res.headersSent) {
      // Too late for an error response: end the connection, as Express would, without its stack trace on stderr.
      logger.error({ err, reqId: requestIdOf(req) }, 'request failed after its response began');
      req.socket.destroy();
      return;
    }
    if (status >= 500) logger.error({ err, reqId: requestIdOf(req), method: req.method, path: req.path }, 'request failed');
    // A library's message may quote the request (a path it could not decode, part of a body): never send it.
    res.status(status).json(errorBody(status));
  });

  const http = createHttpServer(options, app);
  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        http.server.once('error', reject);
        http.server.listen(port, host, () => {
          http.server.off('error', reject);
          resolve((http.server.address() as AddressInfo).port);
        });
      }),
    close: () => http.close(),
    closeAll: () => http.closeAll(),
  };
}
