import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startService, waitFor, type RunningService } from './helpers.ts';

describe('HTTP routes', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService();
  });
  after(() => svc.close());

  it('GET /healthz answers 200 {status:"ok"}', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('GET /readyz answers 200 when ready', async () => {
    const res = await fetch(`${svc.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready' });
  });

  it('GET /hello greets, with and without a name', async () => {
    const named = await fetch(`${svc.url}/hello?name=Ada%20Lovelace`);
    assert.equal(named.status, 200);
    assert.match(named.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await named.json(), { message: 'Hello, Ada Lovelace!' });
    const anonymous = await fetch(`${svc.url}/hello`);
    assert.deepEqual(await anonymous.json(), { message: 'Hello, world!' });
  });

  it('GET /hello rejects an invalid name with a 400 JSON error', async () => {
    for (const query of ['name=%3Cscript%3E', `name=${'a'.repeat(65)}`, 'name=a&name=b']) {
      const res = await fetch(`${svc.url}/hello?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: string; message: string };
      assert.equal(body.error, 'bad_request');
      assert.match(body.message, /name must be/);
    }
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const res = await fetch(`${svc.url}/no/such/route`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { error: 'not_found', message: 'no such route' });
  });

  it('answers a malformed request with a JSON error and no stack trace', async () => {
    const res = await fetch(`${svc.url}/hello/%E0%A4%A`);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    const text = await res.text();
    assert.doesNotMatch(text, /\bat .+:\d+:\d+|node_modules|\.ts:\d+/);
    assert.ok(JSON.parse(text).error);
  });

  it('sets security headers (helmet) and no X-Powered-By', async () => {
    const res = await fetch(`${svc.url}/hello`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.ok(res.headers.get('x-request-id'));
  });

  it('logs one JSON line per request: UTC time, ip, method, path, status, duration; no query string', async () => {
    const res = await fetch(`${svc.url}/hello?name=Grace&token=abc123`, { headers: { 'x-request-id': 'trace-42' } });
    const reqId = res.headers.get('x-request-id');
    await waitFor(() => svc.logs.some((l) => l.reqId === reqId));
    const lines = svc.logs.filter((l) => l.reqId === reqId && l.msg === 'request');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    // The caller's id is kept for tracing, beside the request's own: no client can give its request another one's id.
    assert.equal(line.clientReqId, 'trace-42');
    assert.match(String(reqId), /^[0-9a-f-]{36}$/);
    assert.equal(line.level, 'info');
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/hello');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.match(String(line.ip), /127\.0\.0\.1/);
    assert.ok(!svc.rawLogs.some((l) => l.includes('abc123')), 'the query string is not logged');
  });
});

describe('rate limiting', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
  });
  after(() => svc.close());

  it('answers 429 with a JSON error once a client exceeds RATE_LIMIT_MAX', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${svc.url}/hello`);
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(((await res.json()) as { error: string }).error, 'too_many_requests');
      } else {
        await res.body?.cancel();
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  });

  it('counts unknown routes against the limit too', async () => {
    const res = await fetch(`${svc.url}/wp-login.php`);
    assert.equal(res.status, 429);
    await res.body?.cancel();
  });

  it('never limits the probes', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
    }
  });
});
