import type { AddressInfo } from 'node:net';
import { fastifyRateLimit } from '@fastify/rate-limit';
import { fastify, LogController, type FastifyError } from 'fastify';
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

/** The Fastify application: security headers, rate limiting, one log line per request, the routes. */
export function createHttpService({ config, logger, lifecycle, metrics }: AppOptions): HttpService {
  const { trustProxy } = config;
  const app = fastify({
    loggerInstance: logger,
    // recordRequest writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A hop count as a function: Fastify's types do not take the number form.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // During close: new requests get 503 and idle keep-alive connections are closed.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // Hooks take a callback rather than being async: no promise per request on the hot path.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // While draining, tell keep-alive clients to reconnect (to a pod that is not going away).
    if (lifecycle.shuttingDown) reply.header('connection', 'close');
    done();
  });
  // Helmet's middleware is built once, here. (@fastify/helmet rebuilds it, parsing the CSP, on every
  // request: about half of the CPU per request and most of the garbage, measured with npm run bench.)
  const securityHeaders = helmet();
  app.addHook('onRequest', (req, reply, done) => securityHeaders(req.raw, reply.raw, (err) => done(err as Error | undefined)));
  app.addHook('onResponse', (req, reply, done) => {
    recordRequest(logger, metrics, {
      reqId: req.id,
      ip: req.ip,
      method: req.method,
      url: req.url,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
    done();
  });

  app.register(fastifyRateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      ...errorBody(429, `rate limit exceeded: retry in ${context.after}`),
    }),
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = statusOf(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send(errorBody(status, err.message));
  });

  // Registered as a plugin so that it loads after helmet and rate limiting, whose hooks apply to it.
  app.register(async (routes) => {
    // Probes are not rate limited: kubelet must always get through.
    routes.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok' }));
    routes.get('/readyz', { config: { rateLimit: false } }, async (_req, reply) => {
      const { status, body } = readiness(lifecycle);
      return reply.code(status).send(body);
    });
    routes.get<{ Querystring: { name?: unknown } }>('/hello', async (req, reply) => {
      const greeting = greet(req.query.name);
      if (!greeting.ok) return reply.code(400).send(errorBody(400, greeting.message));
      return { message: greeting.message };
    });
    // Unknown routes count against the rate limit too (scanners probing for paths), as in the Express app.
    routes.setNotFoundHandler({ preHandler: routes.rateLimit() }, (_req, reply) =>
      reply.code(404).send(errorBody(404, 'no such route')),
    );
  });

  return {
    async listen(port, host) {
      await app.listen({ port, host });
      return (app.server.address() as AddressInfo).port;
    },
    close: () => app.close(),
  };
}
