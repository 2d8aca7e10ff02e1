// The reference: node:http doing the same route work as the emitted service (/healthz JSON, /hello with
// the same name check and JSON body) and nothing else: no headers, rate limit, logging or request ids.
import { createServer } from 'node:http';

const NAME = /^[\p{L}\p{M}\p{N} .'-]{1,64}$/u;

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz' || url.pathname === '/readyz') return send(res, 200, { status: 'ok' });
  if (url.pathname === '/hello') {
    const name = url.searchParams.get('name');
    if (name === null) return send(res, 200, { message: 'Hello, world!' });
    if (!NAME.test(name.trim())) return send(res, 400, { error: 'bad_request', message: 'bad name' });
    return send(res, 200, { message: `Hello, ${name.trim()}!` });
  }
  send(res, 404, { error: 'not_found', message: 'no such route' });
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
