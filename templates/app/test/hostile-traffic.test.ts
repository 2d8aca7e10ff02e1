import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startService, waitFor, type LogLine, type RunningService } from './helpers.ts';
import { exchange, openConnection, type Exchange, type RawResponse, type Step } from './raw-http.ts';

/**
 * Hostile and malformed HTTP on loopback, with the timeouts shortened through the configuration (the
 * production values are in config.test.ts). Every case checks what the client gets (status, the app's error
 * body, the security headers and a request id), when the connection closes, and the request's log line:
 * exactly one, in the app's shape, never quoting the input.
 */
const LIMITS = {
  HEADERS_TIMEOUT_MS: '1000',
  REQUEST_TIMEOUT_MS: '1500',
  IDLE_TIMEOUT_MS: '1000',
  KEEP_ALIVE_TIMEOUT_MS: '500',
  BODY_LIMIT_BYTES: '1024',
  RATE_LIMIT_MAX: '100000',
};
/**
 * Node checks the headers and request timeouts every 500 ms; the rest is slack for a busy CI machine (these
 * cases run concurrently). The bound still proves the server closed the connection: the client gives up later.
 */
const LATE_MS = 500 + 2_500;
/** How long a test client waits before it gives up: beyond every bound above. */
const CLIENT_LIMIT_MS = 1_500 + LATE_MS + 1_500;
const HOST = 'Host: test\r\n';
const SMUGGLED = `GET /hello?name=smuggled HTTP/1.1\r\n${HOST}\r\n`;
const json = (body: string) => `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** The response carries the app's hardening: security headers, a request id, a JSON error body that quotes nothing. */
function assertHardened(res: RawResponse | undefined, status: number, error?: string): RawResponse {
  assert.ok(res, 'a response');
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.match(res.headers['content-security-policy'] ?? '', /default-src 'self'/);
  assert.match(res.headers['x-request-id'] ?? '', /^[\w-]{8,}$/);
  if (status >= 400) {
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    const body = JSON.parse(res.body) as { error: string; message: string };
    if (error) assert.equal(body.error, error);
    assert.doesNotMatch(body.message, /script|smuggled|evil|%|\\x|[<>]/i, 'the message quotes no input');
  }
  return res;
}

/** Exactly one log line for the request, in the app's shape. */
async function lineFor(svc: RunningService, res: RawResponse): Promise<LogLine> {
  const reqId = res.headers['x-request-id'];
  await waitFor(() => svc.logs.some((l) => l.reqId === reqId));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const lines = svc.logs.filter((l) => l.reqId === reqId);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const line = lines[0]!;
  assert.equal(line.msg, 'request');
  assert.equal(line.status, res.status);
  for (const key of ['time', 'reqId', 'ip', 'method', 'path', 'status', 'durationMs']) assert.ok(key in line, `${key} in ${JSON.stringify(line)}`);
  return line;
}

function closedWithin(x: Exchange, atLeastMs: number, atMostMs: number): void {
  assert.ok(x.closedAfterMs !== undefined, `closed within ${atMostMs} ms`);
  assert.ok(x.closedAfterMs >= atLeastMs && x.closedAfterMs <= atMostMs, `closed after ${Math.round(x.closedAfterMs)} ms, expected ${atLeastMs}–${atMostMs}`);
}

describe('hostile traffic', { concurrency: true }, () => {
  let svc: RunningService;
  let port: number;
  const send = (steps: Step[], limitMs = CLIENT_LIMIT_MS) => exchange(port, steps, limitMs);
  before(async () => {
    svc = await startService(LIMITS);
    port = Number(new URL(svc.url).port);
  });
  after(async () => {
    await svc.close();
    // Nothing but request lines: no framework warnings, no errors.
    const other = svc.logs.filter((l) => l.msg !== 'request' && l.level !== 'debug' && !/^Server listening/.test(String(l.msg)));
    assert.deepEqual(other, []);
  });

  describe('timeouts', { concurrency: true }, () => {
    it('slow headers: 408 once HEADERS_TIMEOUT_MS has passed, however steadily they trickle', async () => {
      const x = await send([{ dribble: `GET /hello HTTP/1.1\r\n${HOST}X-Slow: ${'a'.repeat(100)}\r\n\r\n`, everyMs: 50 }]);
      closedWithin(x, 1000, 1000 + LATE_MS);
      const line = await lineFor(svc, assertHardened(x.responses[0], 408, 'request_timeout'));
      assert.equal(line.reason, 'ERR_HTTP_REQUEST_TIMEOUT');
      assert.equal(line.method, null);
    });

    it('headers that stop: 408 after IDLE_TIMEOUT_MS', async () => {
      const x = await send([`GET /hello HTTP/1.1\r\n${HOST}`]);
      closedWithin(x, 950, 1000 + LATE_MS);
      await lineFor(svc, assertHardened(x.responses[0], 408, 'request_timeout'));
    });

    it('slow body: 408 once REQUEST_TIMEOUT_MS has passed, however steadily it trickles', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n`, { dribble: '{"name":"' + 'a'.repeat(90), everyMs: 50 }]);
      closedWithin(x, 1500, 1500 + LATE_MS);
      const line = await lineFor(svc, assertHardened(x.responses[0], 408, 'request_timeout'));
      assert.equal(line.path, '/hello');
    });

    it('a body that stops: 408 after IDLE_TIMEOUT_MS', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"`]);
      closedWithin(x, 950, 1000 + LATE_MS);
      await lineFor(svc, assertHardened(x.responses[0], 408, 'request_timeout'));
    });

    it('a slow body on a route that takes none: answered at once, the connection closed without reading it', async () => {
      const x = await send([`GET /hello HTTP/1.1\r\n${HOST}Content-Length: 100\r\n\r\n`, { dribble: 'a'.repeat(100), everyMs: 50 }]);
      closedWithin(x, 0, 1000 + LATE_MS);
      assert.equal((await lineFor(svc, assertHardened(x.responses[0], 200))).status, 200);
    });

    it('an idle keep-alive connection: closed after KEEP_ALIVE_TIMEOUT_MS (plus the 1 s recent Node releases add)', async () => {
      const x = await send([`GET /hello HTTP/1.1\r\n${HOST}\r\n`]);
      closedWithin(x, 450, 1500 + LATE_MS);
      await lineFor(svc, assertHardened(x.responses[0], 200));
    });
  });

  describe('oversized requests', { concurrency: true }, () => {
    it('a declared body over BODY_LIMIT_BYTES: 413 before any of it is read', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n`, 'x'.repeat(64 * 1024)]);
      closedWithin(x, 0, 1000 + LATE_MS);
      assert.equal(x.reset, false, 'the answer arrives; the connection is not reset');
      await lineFor(svc, assertHardened(x.responses[0], 413, 'payload_too_large'));
    });

    it('a chunked body over BODY_LIMIT_BYTES: 413', async () => {
      const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`]);
      await lineFor(svc, assertHardened(x.responses[0], 413, 'payload_too_large'));
    });

    for (const [name, request] of [
      ['headers over 16 KiB', `GET /hello HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      ['a URL over 16 KiB', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${HOST}\r\n`],
      ['thousands of headers', `GET /hello HTTP/1.1\r\n${HOST}${Array.from({ length: 3000 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`],
    ] as const) {
      it(`${name}: 431 from the parser, in the app's shape`, async () => {
        const x = await send([request]);
        closedWithin(x, 0, LATE_MS);
        const line = await lineFor(svc, assertHardened(x.responses[0], 431, 'headers_too_large'));
        assert.equal(line.reason, 'HPE_HEADER_OVERFLOW');
      });
    }

    it('Expect: 100-continue with a body over the limit: 413, and no 100 Continue', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`]);
      assert.equal(x.responses.length, 1);
      await lineFor(svc, assertHardened(x.responses[0], 413));
    });

    it('another Expect: 417 in the app shape', async () => {
      const x = await send([`GET /hello HTTP/1.1\r\n${HOST}Expect: something-else\r\n\r\n`]);
      await lineFor(svc, assertHardened(x.responses[0], 417, 'expectation_failed'));
    });
  });

  describe('malformed requests and smuggling shapes: 400 from the parser, the smuggled request never served', { concurrency: true }, () => {
    for (const [name, request, reason] of [
      ['Content-Length and Transfer-Encoding', `POST /hello HTTP/1.1\r\n${HOST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'HPE_INVALID_TRANSFER_ENCODING'],
      ['Transfer-Encoding and Content-Length', `POST /hello HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'HPE_INVALID_CONTENT_LENGTH'],
      ['two Content-Length values', `POST /hello HTTP/1.1\r\n${HOST}Content-Length: 5\r\nContent-Length: 50\r\n\r\n{"a":1}${SMUGGLED}`, 'HPE_UNEXPECTED_CONTENT_LENGTH'],
      ['a Content-Length list', `POST /hello HTTP/1.1\r\n${HOST}Content-Length: 1, 2\r\n\r\nab`, 'HPE_INVALID_CONTENT_LENGTH'],
      ['a negative Content-Length', `POST /hello HTTP/1.1\r\n${HOST}Content-Length: -1\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH'],
      ['chunked, then identity', `POST /hello HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'HPE_INVALID_TRANSFER_ENCODING'],
      ['a space before the colon', `POST /hello HTTP/1.1\r\n${HOST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'HPE_INVALID_HEADER_TOKEN'],
      ['a folded header', `POST /hello HTTP/1.1\r\n${HOST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'HPE_INVALID_HEADER_TOKEN'],
      ['bare LF line ends', `GET /hello HTTP/1.1\n${HOST.trim()}\n\n`, 'HPE_INVALID_VERSION'],
      ['a bare CR', `GET /hello HTTP/1.1\rHost: test\r\n\r\n`, 'HPE_STRICT'],
      ['a NUL in a header', `GET /hello HTTP/1.1\r\n${HOST}X-A: a\0b\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN'],
      ['an invalid method', `G@T /hello HTTP/1.1\r\n${HOST}\r\n`, 'HPE_INVALID_METHOD'],
      ['a space in the path', `GET /hel lo HTTP/1.1\r\n${HOST}\r\n`, 'HPE_INVALID_CONSTANT'],
      ['a header without a colon', `GET /hello HTTP/1.1\r\n${HOST}Nocolon\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN'],
      ['TLS on the plain port', Buffer.from('160301012c010001280303', 'hex'), 'HPE_INVALID_METHOD'],
    ] as const) {
      it(name, async () => {
        const x = await send([request]);
        closedWithin(x, 0, LATE_MS);
        assert.equal(x.responses.length, 1, 'one answer: nothing smuggled after it');
        const line = await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
        assert.equal(line.reason, reason);
        assert.ok(!svc.logs.some((l) => String(l.path).includes('smuggled')));
      });
    }

    it('a bad chunk size in a body: 400 through the request’s own log line', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`]);
      const line = await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
      assert.equal(line.path, '/hello');
    });

    it('garbage after a complete request: that request is answered, then the connection closed', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}${json('{"name":"Ada"}')}}}garbage\r\n\r\n`]);
      closedWithin(x, 0, LATE_MS);
      assert.equal(x.responses.length, 1);
      assert.equal(JSON.parse(x.responses[0]!.body).message, 'Hello, Ada!');
      assert.equal(x.responses[0]?.headers.connection, 'close');
      await lineFor(svc, assertHardened(x.responses[0], 200));
    });

    for (const [name, request] of [
      ['two Host headers', `GET /hello HTTP/1.1\r\nHost: test\r\nHost: other\r\n\r\n`],
      ['a request line without a version', `GET /hello\r\n${HOST}\r\n`],
    ] as const) {
      it(`${name}: 400 in the app shape, one log line`, async () => {
        const x = await send([request]);
        const res = assertHardened(x.responses[0], 400, 'bad_request');
        assert.equal(x.responses.length, 1);
        await lineFor(svc, res);
      });
    }

    it('a caller’s X-Request-Id is never the request’s own id: another request’s id cannot be planted', async () => {
      const first = await fetch(`${svc.url}/hello`);
      const planted = first.headers.get('x-request-id')!;
      const x = await send([`GET /hello HTTP/1.1\r\n${HOST}X-Request-Id: ${planted}\r\n\r\n`]);
      const res = assertHardened(x.responses[0], 200);
      assert.notEqual(res.headers['x-request-id'], planted);
      const line = await lineFor(svc, res);
      assert.equal(line.clientReqId, planted);
      assert.equal(svc.logs.filter((l) => l.reqId === planted).length, 1, 'the first request alone has its id');
    });

    it('HTTP/1.1 without Host: 400 in the app shape', async () => {
      const x = await send([`GET /hello HTTP/1.1\r\n\r\n`]);
      await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
    });

    it('CONNECT: 405, this is not a proxy', async () => {
      const x = await send([`CONNECT evil.example:443 HTTP/1.1\r\n${HOST}\r\n`]);
      closedWithin(x, 0, LATE_MS);
      const line = await lineFor(svc, assertHardened(x.responses[0], 405, 'method_not_allowed'));
      assert.equal(line.method, 'CONNECT');
    });
  });

  describe('bad encodings', { concurrency: true }, () => {
    for (const [name, path] of [
      ['a lone %', '/%'],
      ['a script in a malformed path', '/%<script>alert(1)</script>'],
      ['a truncated UTF-8 sequence', '/hello/%E0%A4%A'],
    ] as const) {
      it(`${name}: 400, the path not quoted`, async () => {
        const x = await send([`GET ${path} HTTP/1.1\r\n${HOST}\r\n`]);
        const res = assertHardened(x.responses[0], 400, 'bad_request');
        assert.ok(!res.body.includes(path));
        await lineFor(svc, res);
      });
    }

    it('invalid UTF-8 in a query: 400 from the route', async () => {
      const x = await send([`GET /hello?name=%FF%FE HTTP/1.1\r\n${HOST}\r\n`]);
      await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
    });

    it('invalid UTF-8 in a JSON body: 400', async () => {
      const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const x = await send([Buffer.concat([Buffer.from(`POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`), body])]);
      await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
    });

    it('malformed JSON: 400 that does not quote the body', async () => {
      const x = await send([`POST /hello HTTP/1.1\r\n${HOST}${json('{"name":<script>')}`]);
      await lineFor(svc, assertHardened(x.responses[0], 400, 'bad_request'));
    });

    for (const [name, headers] of [
      ['a compressed body', 'Content-Encoding: gzip\r\nContent-Type: application/json'],
      ['a charset other than UTF-8', 'Content-Type: application/json; charset=latin1'],
      ['a body that is not JSON', 'Content-Type: text/plain'],
    ] as const) {
      it(`${name}: 415`, async () => {
        const x = await send([`POST /hello HTTP/1.1\r\n${HOST}${headers}\r\nContent-Length: 14\r\n\r\n{"name":"Ada"}`]);
        await lineFor(svc, assertHardened(x.responses[0], 415, 'unsupported_media_type'));
      });
    }

    it('a body to an unknown route: 404, not parsed (malformed JSON would be a 400)', async () => {
      const x = await send([`POST /wp-login.php HTTP/1.1\r\n${HOST}${json('{"a":<not json')}`]);
      await lineFor(svc, assertHardened(x.responses[0], 404, 'not_found'));
    });
  });
});

describe('connection caps', { concurrency: true }, () => {
  /** Holds `count` silent connections on a service started with `env`, then opens one more: how soon is it closed? */
  async function overTheCap(env: Record<string, string>, count: number) {
    const svc = await startService({ ...LIMITS, HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000', IDLE_TIMEOUT_MS: '5000', ...env });
    const port = Number(new URL(svc.url).port);
    const held = await Promise.all(Array.from({ length: count }, () => openConnection(port)));
    const refused = await openConnection(port);
    // Well before any of the 5 s timeouts could have closed it: the cap did (with slack for a busy machine).
    const closedAfter = await Promise.race([refused.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 3000))]);
    assert.ok(closedAfter < 2500, `refused within ${closedAfter} ms`);
    return { svc, held };
  }

  it('MAX_CONNECTIONS_PER_IP: one address cannot hold more; the next connection is closed at once and logged', async () => {
    const { svc, held } = await overTheCap({ MAX_CONNECTIONS_PER_IP: '5' }, 5);
    try {
      const warning = svc.logs.find((l) => l.msg === 'connection refused: MAX_CONNECTIONS_PER_IP reached');
      assert.deepEqual({ ip: warning?.ip, limit: warning?.limit, level: warning?.level }, { ip: '127.0.0.1', limit: 5, level: 'warn' });
      for (const c of held) c.close();
      await Promise.all(held.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await fetch(`${svc.url}/hello`)).status, 200, 'served again once the address is under the cap');
    } finally {
      await svc.close();
    }
  });

  it('MAX_CONNECTIONS: no more open connections in all', async () => {
    const { svc, held } = await overTheCap({ MAX_CONNECTIONS: '3' }, 3);
    try {
      await waitFor(() => svc.logs.some((l) => l.msg === 'connection refused: MAX_CONNECTIONS reached' && l.limit === 3));
      for (const c of held) c.close();
    } finally {
      await svc.close();
    }
  });

  it('a silent connection: closed after IDLE_TIMEOUT_MS, nothing logged (no request arrived)', async () => {
    const svc = await startService(LIMITS);
    try {
      const x = await exchange(Number(new URL(svc.url).port), [], CLIENT_LIMIT_MS);
      closedWithin(x, 950, 1000 + LATE_MS);
      assert.deepEqual(x.responses, []);
      assert.deepEqual(svc.logs.filter((l) => l.msg === 'request'), []);
    } finally {
      await svc.close();
    }
  });
});

describe('rate limiting', () => {
  it('answers 429 before any body is read or parsed, on known and unknown routes', async () => {
    const svc = await startService({ ...LIMITS, RATE_LIMIT_MAX: '1' });
    const port = Number(new URL(svc.url).port);
    try {
      const first = await exchange(port, [`POST /hello HTTP/1.1\r\n${HOST}${json('{"name":"Ada"}')}`]);
      await lineFor(svc, assertHardened(first.responses[0], 200));
      // Malformed JSON would be a 400 and a huge body a 413, were they looked at.
      for (const request of [
        `POST /hello HTTP/1.1\r\n${HOST}${json('{"name":<not json')}`,
        `POST /wp-login.php HTTP/1.1\r\n${HOST}${json('{"a":<not json')}`,
        `POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{`,
      ]) {
        const x = await exchange(port, [request]);
        const res = assertHardened(x.responses[0], 429, 'too_many_requests');
        assert.match(res.headers['retry-after'] ?? '', /^\d+$/);
        assert.match(res.headers.ratelimit ?? '', /^limit=1, remaining=0, reset=\d+$/);
        await lineFor(svc, res);
      }
    } finally {
      await svc.close();
    }
  });
});

describe('spoofed forwarded addresses', { concurrency: true }, () => {
  const fetchAs = (svc: RunningService, forwardedFor: string) =>
    fetch(`${svc.url}/hello`, { headers: { 'x-forwarded-for': forwardedFor } }).then(async (res) => {
      await res.body?.cancel();
      const reqId = res.headers.get('x-request-id');
      await waitFor(() => svc.logs.some((l) => l.reqId === reqId));
      return { status: res.status, line: svc.logs.find((l) => l.reqId === reqId)! };
    });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: one bucket, the socket address logged', async () => {
    const svc = await startService({ RATE_LIMIT_MAX: '2' });
    try {
      const results = [];
      for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) results.push(await fetchAs(svc, ip));
      assert.deepEqual(results.map((r) => r.status), [200, 200, 429]);
      assert.deepEqual(results.map((r) => r.line.ip), ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    } finally {
      await svc.close();
    }
  });

  it('a caller outside TRUST_PROXY is the client whatever it forwards: limited and capped as itself', async () => {
    // The proxy connects from 127.0.0.2; the caller reaches the service directly from 127.0.0.1.
    const svc = await startService({ RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.2', MAX_CONNECTIONS_PER_IP: '3' });
    try {
      const results = [];
      for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) results.push(await fetchAs(svc, ip));
      assert.deepEqual(results.map((r) => [r.status, r.line.ip]), [[200, '127.0.0.1'], [200, '127.0.0.1'], [429, '127.0.0.1']]);
      const port = Number(new URL(svc.url).port);
      const held = await Promise.all(Array.from({ length: 3 }, () => openConnection(port)));
      const refused = await openConnection(port);
      await Promise.race([refused.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not capped')), 2500))]);
      for (const c of held) c.close();
      // The proxy itself: its forwarded clients count as themselves, and it is not held to the per-address cap.
      const viaProxy = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          new Promise<number>((resolve, reject) => {
            const req = request({ port, path: '/hello', localAddress: '127.0.0.2', agent: false, headers: { 'x-forwarded-for': `198.51.100.${i}` } }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.once('error', reject).end();
          }),
        ),
      );
      assert.deepEqual(viaProxy, [200, 200, 200, 200, 200]);
      assert.ok(svc.logs.some((l) => l.ip === '198.51.100.4'));
    } finally {
      await svc.close();
    }
  });

  it('behind a trusted proxy: a bucket per forwarded address; a value that is not an IP falls back to the socket, saying why', async () => {
    const svc = await startService({ RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.1' });
    try {
      const a = [await fetchAs(svc, '203.0.113.1'), await fetchAs(svc, '203.0.113.1'), await fetchAs(svc, '203.0.113.1')];
      assert.deepEqual(a.map((r) => [r.status, r.line.ip]), [[200, '203.0.113.1'], [200, '203.0.113.1'], [429, '203.0.113.1']]);
      const b = await fetchAs(svc, '198.51.100.1, 203.0.113.2');
      assert.deepEqual([b.status, b.line.ip], [200, '203.0.113.2'], 'only the hop the proxy added counts');
      for (const spoof of ['not-an-ip', `${'a'.repeat(2048)}`, '203.0.113.9:8080']) {
        const r = await fetchAs(svc, spoof);
        assert.equal(r.line.ip, '127.0.0.1');
        assert.match(String(r.line.ipNote), /not an IP address: the socket address is used/);
        assert.ok(!svc.rawLogs.some((l) => l.includes(spoof)), 'the value itself is not logged');
      }
      // One client holds a whole IPv6 network: its addresses share the bucket of their /56.
      const v6 = [await fetchAs(svc, '2001:db8:1:2ff::1'), await fetchAs(svc, '2001:db8:1:200::2'), await fetchAs(svc, '2001:db8:1:2aa:1:2:3:4')];
      assert.deepEqual(v6.map((r) => r.status), [200, 200, 429]);
      assert.equal(v6[0]?.line.ip, '2001:db8:1:2ff::1');
    } finally {
      await svc.close();
    }
  });
});
