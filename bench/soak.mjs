// The soak: each framework's built service, in a memory cgroup of the chart's limit and on a CPU of its own,
// under minutes of mixed traffic on 127.0.0.1, its memory sampled every few seconds. The traffic:
// - GET /hello as a stream of client addresses (X-Forwarded-For from 127.0.0.1, a trusted proxy here), cycling
//   through five times RATE_LIMIT_MAX_CLIENTS, so that the rate limiter's store stays full and keeps evicting;
// - connections that trickle their headers until HEADERS_TIMEOUT_MS cuts them (408), reopened at once;
// - bodies declared far over BODY_LIMIT_BYTES (413 before any of it is read).
// The goal is a flat curve: nothing grows with the number of requests, clients or hostile connections.
import autocannon from 'autocannon';
import { connect } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createIsolation } from './isolation.mjs';
import { procStatus, start, stop } from './service.mjs';
import { mib, sleep } from './support.mjs';

const CLIENT_ADDRESSES = 50_000;
const SLOW_CONNECTIONS = 40;
const OVERSIZED_PER_SECOND = 5;
const SAMPLE_EVERY_MS = 5_000;

export const SOAK_ENV = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  TRUST_PROXY: '127.0.0.1',
  // Counts every request, throttles none of the load.
  RATE_LIMIT_MAX: '1000000',
  SHUTDOWN_DELAY_MS: '0',
  SHUTDOWN_TIMEOUT_MS: '2000',
};

/** An IPv6 address in a /56 of its own for each n: the longest keys the store holds. */
const clientAddress = (n) => `2001:db8:${(n >> 8).toString(16)}:${(n & 255).toString(16)}00::1`;

/** Opens one raw connection, writes `head` and then `trickle` one byte every `everyMs`; resolves to the status it got. */
function hostileConnection(port, head, trickle = '', everyMs = 500) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let timer;
    let at = 0;
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Number(answer.split(' ')[1]) || 0);
    });
    const drip = () => {
      if (socket.destroyed || at >= trickle.length) return;
      socket.write(trickle[at++]);
      timer = setTimeout(drip, everyMs);
    };
    socket.once('connect', () => socket.write(head, drip));
  });
}

/** Keeps `count` connections trickling headers until `until`; counts the answers by status. */
async function keepSlowConnections(port, count, until, statuses) {
  const slow = async () => {
    while (Date.now() < until) {
      const code = await hostileConnection(port, 'GET /hello HTTP/1.1\r\nHost: soak\r\n', `X-Slow: ${'a'.repeat(200)}\r\n\r\n`);
      statuses.set(`slow ${code}`, (statuses.get(`slow ${code}`) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: count }, slow));
}

async function sendOversized(port, until, statuses) {
  while (Date.now() < until) {
    const sent = Array.from({ length: OVERSIZED_PER_SECOND }, () =>
      hostileConnection(port, `POST /hello HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n${'x'.repeat(64 * 1024)}`),
    );
    for (const code of await Promise.all(sent)) statuses.set(`oversized ${code}`, (statuses.get(`oversized ${code}`) ?? 0) + 1);
    await sleep(1_000);
  }
}

async function soakOne(name, { node, variants, memory }, { durationS, connections }) {
  const isolation = createIsolation({ memoryBytes: memory.bytes });
  const server = await start(name, isolation.wrap(name, node, ['dist/server.js']), variants[name], SOAK_ENV);
  isolation.pinForLoad([server.child.pid]);
  const samples = [];
  const started = Date.now();
  const sample = () =>
    samples.push({
      s: Math.round((Date.now() - started) / 1000),
      rssMiB: +mib(procStatus(server.child.pid, 'VmRSS')).toFixed(1),
      anonMiB: +mib(procStatus(server.child.pid, 'RssAnon')).toFixed(1),
      cgroupMiB: isolation.currentBytes(name) === undefined ? undefined : +mib(isolation.currentBytes(name)).toFixed(1),
    });
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  const statuses = new Map();
  let n = 0;
  try {
    sample();
    const until = started + durationS * 1000;
    const [load] = await Promise.all([
      autocannon({
        url: `http://127.0.0.1:${server.port}`,
        connections,
        duration: durationS,
        timeout: 10,
        requests: [{ method: 'GET', path: '/hello?name=soak', setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-forwarded-for': clientAddress(n++ % CLIENT_ADDRESSES) } }) }],
      }),
      keepSlowConnections(server.port, SLOW_CONNECTIONS, until, statuses),
      sendOversized(server.port, until, statuses),
    ]);
    sample();
    return {
      durationS,
      requests: load.requests.total,
      non2xx: load.non2xx,
      errors: load.errors + load.timeouts,
      clientAddresses: Math.min(n, CLIENT_ADDRESSES),
      hostile: Object.fromEntries([...statuses].sort()),
      samples,
      cgroupPeakMiB: isolation.peakBytes(name) === undefined ? undefined : +mib(isolation.peakBytes(name)).toFixed(1),
      memoryLimit: isolation.memoryReason === undefined ? memory.text : null,
      memoryLimitMissing: isolation.memoryReason,
      cpuPinned: isolation.pinned,
    };
  } finally {
    clearInterval(timer);
    await stop(server);
    isolation.cleanup();
  }
}

export async function measureSoak(built, { durationS, connections }) {
  const date = new Date().toISOString();
  const results = {};
  for (const name of Object.keys(built.variants)) results[name] = await soakOne(name, built, { durationS, connections });
  const load = loadavg()[0].toFixed(1);
  const machine = `${cpus()[0]?.model.trim()} × ${cpus().length}, load average ${load} at the end`;
  return { date, machine, node: built.nodeVersion, env: SOAK_ENV, clientAddresses: CLIENT_ADDRESSES, slowConnections: SLOW_CONNECTIONS, oversizedPerSecond: OVERSIZED_PER_SECOND, results };
}
