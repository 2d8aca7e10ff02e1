import type { AddressInfo } from 'node:net';
import { fastify, LogController, type FastifyError, type FastifyReply } from 'fastify';
import { greet, greetBody } from './greeting.ts';
import { type AppOptions, errorBody, type HttpService, readiness, statusOf } from './http-service.ts';
import { createHttpServer, type HttpServer, requestIdOf } from './http-server.ts';

/**
 * The Fastify application: the routes, and errors answered in the app's shape. Timeouts, connection limits,
 * security headers, request ids, rate limiting, the body limit and the request log are the server's
 * (http-server.ts), the same as for Express.
 */
export function createHttpService(options: AppOptions): HttpService {
  const { config, lifecycle } = options;
  const { trustProxy } = config;
  let http: HttpServer | undefined;
  const app = fastify({
    serverFactory: (handler) => {
      http = createHttpServer(options, handler);
      return http.server;
    },
    loggerInstance: options.logger,
    // http-server.ts writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Client errors are answered by http-server.ts, which also handles them for Express.
    clientErrorHandler: () => {},
    // For req.protocol and req.host (and req.ip, unvalidated). The client address of the request log and the
    // rate limit is validated by http-server.ts. A hop count as a function: Fastify's types do not take a number.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    genReqId: requestIdOf,
    bodyLimit: config.limits.bodyLimitBytes,
    // While draining, requests on open connections are served (with Connection: close); http-server.ts
    // closes connections as they become idle.
    return503OnClosing: false,
    forceCloseConnections: false,
    // A malformed URL: the app's 400, not Fastify's (which quotes the path).
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const status = statusOf(err);
      return reply.code(status).send(errorBody(status));
    },
  });

  // JSON only, as for Express: Fastify also parses text/plain by default.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = statusOf(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    // A library's message may quote the request (Fastify's JSON parser quotes the body): never send it.
    return reply.code(status).send(errorBody(status));
  });
  // Unknown routes are answered before their body would be parsed.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.is404) reply.code(404).send(errorBody(404));
    else done();
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(errorBody(404)));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { status, body } = readiness(lifecycle);
    return reply.code(status).send(body);
  });
  app.get<{ Querystring: { name?: unknown } }>('/hello', async (req, reply) => {
    const greeting = greet(req.query.name);
    if (!greeting.ok) return reply.code(400).send(errorBody(400, greeting.message));
    return { message: greeting.message };
  });
  // The one route that takes a body: JSON only (Fastify answers 415 to other types), at most BODY_LIMIT_BYTES.
  app.post<{ Body: unknown }>('/hello', async (req, reply) => {
    const greeting = greetBody(req.body);
    if (!greeting.ok) return reply.code(400).send(errorBody(400, greeting.message));
    return { message: greeting.message };
  });

  return {
    async listen(port, host) {
      await app.listen({ port, host });
      return (app.server.address() as AddressInfo).port;
    },
    close: async () => {
      await Promise.all([http?.close(), app.close()]);
    },
    closeAll: async () => (await http?.closeAll()) ?? [],
  };
}
