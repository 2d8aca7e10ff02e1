import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startService, type RunningService } from './helpers.ts';
import { exchange } from './raw-http.ts';

/**
 * Answers given before the request's body is read (a refusal, a route that takes no body) must not leave the
 * connection in an unknown state: a proxy's keep-alive pool would send its next request on it. Such an answer
 * says `Connection: close`, and nothing that arrives after it on that connection reaches the app. Keep-alive is
 * kept wherever the whole request was read.
 */
const HOST = 'Host: test\r\n';
/** A request sent on the same connection after the early answer: it must never run (its path shows in the log). */
const NEXT = `GET /after-the-early-answer HTTP/1.1\r\n${HOST}\r\n`;

describe('early answers', { concurrency: true }, () => {
  let svc: RunningService;
  let limited: RunningService;
  before(async () => {
    svc = await startService({ BODY_LIMIT_BYTES: '1024', RATE_LIMIT_MAX: '100000' });
    limited = await startService({ RATE_LIMIT_MAX: '1' });
  });
  after(async () => {
    await svc.close();
    await limited.close();
  });
  const port = (s: RunningService) => Number(new URL(s.url).port);

  /** Sends `head`, waits for the answer, then the body and a next request; returns the answers and whether the next one ran. */
  async function earlyAnswer(s: RunningService, head: string, body: string) {
    const x = await exchange(port(s), [head, { waitMs: 300 }, body + NEXT], 4_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ran = s.logs.some((l) => l.path === '/after-the-early-answer');
    return { x, ran };
  }

  for (const [name, status, head, body] of [
    ['413: a declared body over the limit', 413, `POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n`, 'a'.repeat(2000)],
    ['415: a compressed body', 415, `POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 14\r\n\r\n`, '{"name":"Ada"}'],
    ['404: a body to an unknown route', 404, `POST /wp-login.php HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 14\r\n\r\n`, '{"name":"Ada"}'],
    ['200: a GET with a body', 200, `GET /hello HTTP/1.1\r\n${HOST}Content-Length: 14\r\n\r\n`, '{"name":"Ada"}'],
  ] as const) {
    it(`${name}: Connection: close, and the next request on the connection never runs`, async () => {
      const { x, ran } = await earlyAnswer(svc, head, body);
      assert.equal(x.responses[0]?.status, status);
      assert.equal(x.responses[0]?.headers.connection, 'close');
      assert.equal(x.responses.length, 1, 'nothing answered after Connection: close');
      assert.equal(ran, false, 'the request sent after the early answer did not reach the app');
      assert.notEqual(x.closedAfterMs, undefined, 'the connection is closed');
    });
  }

  it('429 before the body: Connection: close, and the next request never runs', async () => {
    await fetch(`${limited.url}/hello`).then((r) => r.body?.cancel());
    const { x, ran } = await earlyAnswer(limited, `POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 14\r\n\r\n`, '{"name":"Ada"}');
    assert.equal(x.responses[0]?.status, 429);
    assert.equal(x.responses[0]?.headers.connection, 'close');
    assert.equal(ran, false);
  });

  it('keep-alive is kept when the whole request was read: a 429, a 404 and a body read by its route', async () => {
    const x = await exchange(
      port(svc),
      [
        `POST /hello HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{"name":"Ada"}`,
        { waitMs: 200 },
        `GET /nothing-here HTTP/1.1\r\n${HOST}\r\n`,
        { waitMs: 200 },
        `GET /hello HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
      ],
      4_000,
    );
    assert.deepEqual(x.responses.map((r) => r.status), [200, 404, 200]);
    assert.deepEqual(x.responses.map((r) => r.headers.connection), ['keep-alive', 'keep-alive', 'close']);
    const y = await exchange(port(limited), [`GET /hello HTTP/1.1\r\n${HOST}\r\n`, { waitMs: 200 }, `GET /hello HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`], 4_000);
    assert.deepEqual(y.responses.map((r) => [r.status, r.headers.connection]), [[429, 'keep-alive'], [429, 'close']]);
  });
});
