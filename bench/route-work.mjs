// The route work that both reference servers do, the same as the emitted service's routes: /healthz and
// /readyz answer JSON, /hello checks the name as src/greeting.ts does and answers JSON, the rest is a 404.
const NAME = /^[\p{L}\p{M}\p{N} .'-]{1,64}$/u;

export const PROBES = new Set(['/healthz', '/readyz']);

export function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** Answers a request whose URL is already parsed; `beforeRoute` may answer first (the rate limiter). */
export function answer(url, res, beforeRoute = () => false) {
  if (PROBES.has(url.pathname)) return send(res, 200, { status: 'ok' });
  if (beforeRoute()) return undefined;
  if (url.pathname === '/hello') {
    const name = url.searchParams.get('name');
    if (name === null) return send(res, 200, { message: 'Hello, world!' });
    if (!NAME.test(name.trim())) return send(res, 400, { error: 'bad_request', message: 'bad name' });
    return send(res, 200, { message: `Hello, ${name.trim()}!` });
  }
  return send(res, 404, { error: 'not_found', message: 'no such route' });
}

/** Starts a reference server on PORT and HOST, closing on SIGTERM. */
export function serve(server) {
  server.keepAliveTimeout = 72_000;
  server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
