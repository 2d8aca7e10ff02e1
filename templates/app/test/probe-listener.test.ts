import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SIDE_LIMITS } from '../src/side-listener.ts';
import { startService, type RunningService } from './helpers.ts';
import { openConnection } from './raw-http.ts';

/**
 * The kubelet's probes are served on PROBE_PORT, off the public port's caps: a flood that fills every public
 * connection slot must not make the pod look dead (restarted) or unready. The emitted README states the
 * answer time measured here (PROBE_ANSWER_BOUND_MS).
 */
export const PROBE_ANSWER_BOUND_MS = 1_000;
const PUBLIC_SLOTS = 200;

/** A kubelet-style probe: a new connection, GET, Connection: close; resolves to [status, milliseconds]. */
function probe(url: string, path: string): Promise<[number, number]> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { agent: false, headers: { connection: 'close', 'user-agent': 'kube-probe/1.34' } }, (res) => {
      res.resume();
      res.once('end', () => resolve([res.statusCode ?? 0, performance.now() - started]));
    });
    req.setTimeout(5_000, () => req.destroy());
    req.once('error', () => resolve([0, performance.now() - started]));
    req.end();
  });
}

describe('probes on their own listener', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ PROBE_PORT: '0', MAX_CONNECTIONS: String(PUBLIC_SLOTS), MAX_CONNECTIONS_PER_IP: String(PUBLIC_SLOTS), HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '20000', IDLE_TIMEOUT_MS: '20000' });
  });
  after(() => svc.close());

  it('answers /healthz and /readyz, closing each connection; nothing else', async () => {
    const url = svc.probeUrl!;
    const health = await fetch(`${url}/healthz`);
    assert.deepEqual([health.status, await health.json(), health.headers.get('connection')], [200, { status: 'ok' }, 'close']);
    const ready = await fetch(`${url}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
    assert.equal((await fetch(`${url}/hello`)).status, 404);
    const other = await startService({ PROBE_PORT: '0' });
    try {
      other.lifecycle.beginShutdown();
      const draining = await fetch(`${other.probeUrl}/readyz`);
      assert.deepEqual([draining.status, await draining.json()], [503, { status: 'shutting_down' }]);
    } finally {
      await other.close();
    }
  });

  it(`during a flood that fills every public connection slot, probes answer within ${PROBE_ANSWER_BOUND_MS} ms`, async () => {
    const port = Number(new URL(svc.url).port);
    const flood = await Promise.all(Array.from({ length: PUBLIC_SLOTS + 20 }, () => openConnection(port)));
    try {
      // The public port is full: a probe there is refused (what the kubelet saw before probes had their own port).
      assert.equal((await probe(svc.url, '/healthz'))[0], 0);
      const answers: [number, number][] = [];
      for (let i = 0; i < 20; i++) answers.push(await probe(svc.probeUrl!, i % 2 ? '/readyz' : '/healthz'));
      assert.deepEqual(answers.map(([status]) => status), Array<number>(20).fill(200));
      const slowest = Math.max(...answers.map(([, ms]) => ms));
      assert.ok(slowest < PROBE_ANSWER_BOUND_MS, `slowest probe ${Math.round(slowest)} ms`);
    } finally {
      for (const c of flood) c.close();
    }
  });

  it('the probe listener is capped too: one address holds at most a few connections, each for a few seconds', async () => {
    const port = Number(new URL(svc.probeUrl!).port);
    const held = await Promise.all(Array.from({ length: SIDE_LIMITS.maxConnectionsPerIp }, () => openConnection(port)));
    const refused = await openConnection(port);
    const closedAfter = await Promise.race([refused.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 1_500))]);
    assert.ok(closedAfter < 1_500, 'over the per-address cap: closed at once');
    const heldFor = await Promise.race([held[0]!.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), SIDE_LIMITS.timeoutMs + 3_000))]);
    assert.ok(heldFor <= SIDE_LIMITS.timeoutMs + 3_000, `a silent connection closed after ${Math.round(heldFor)} ms`);
    for (const c of held) c.close();
  });
});
