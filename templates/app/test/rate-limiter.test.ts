import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rateLimitKey } from '../src/client-address.ts';
import { RateLimiter } from '../src/rate-limiter.ts';

describe('rate limiter', () => {
  it('counts requests per client in fixed windows', () => {
    const limiter = new RateLimiter({ max: 2, windowMs: 1000, maxClients: 10 });
    assert.deepEqual([1, 2, 3].map(() => limiter.hit('a', 0).count), [1, 2, 3]);
    assert.equal(limiter.hit('b', 0).count, 1, 'another client has its own count');
    assert.deepEqual(limiter.hit('a', 1000), { count: 1, resetAt: 2000 }, 'a new window starts afresh');
  });

  it('keeps at most maxClients, forgetting the least recently seen', () => {
    const limiter = new RateLimiter({ max: 5, windowMs: 60_000, maxClients: 3 });
    for (const key of ['a', 'b', 'c']) limiter.hit(key, 0);
    limiter.hit('a', 1);
    limiter.hit('d', 2);
    assert.equal(limiter.clients, 3);
    assert.equal(limiter.evictions, 1);
    assert.equal(limiter.hit('a', 3).count, 3, 'a, seen recently, is kept');
    assert.equal(limiter.hit('b', 4).count, 1, 'b, the least recently seen, was forgotten');
  });

  it('at its cap, holds under 400 bytes of heap per client, with the longest keys', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const limiter = new RateLimiter({ max: 100, windowMs: 60_000, maxClients: 10_000 });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 30_000; i++) limiter.hit(rateLimitKey(`ffff:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}ff:ff00::1`));
    gc();
    const perClient = (process.memoryUsage().heapUsed - before) / limiter.clients;
    assert.equal(limiter.clients, 10_000);
    assert.equal(limiter.evictions, 20_000);
    assert.ok(perClient < 400, `${Math.round(perClient)} bytes per client`);
  });
});
