// The emitted service behind nginx pooling its upstream connections as ingress-nginx does (bench/nginx.mjs):
// what the service's connection handling (early answers that close, pipelining gates, caps) costs there, and
// whether the proxy's keep-alive pool is kept. autocannon loads GET /hello?name=x through nginx; the TCP
// connections the machine accepted meanwhile (TcpPassiveOpens in /proc/net/snmp: autocannon's to nginx and
// nginx's to the service; loopback only, on a quiet machine nothing else) tell how many upstream connections
// nginx had to open. Kept means no more than nginx's own renewal (one connection per
// NGINX_REQUESTS_PER_CONNECTION requests) plus one per load connection.
import autocannon from 'autocannon';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIsolation } from './isolation.mjs';
import { NGINX_POOL, NGINX_REQUESTS_PER_CONNECTION, nginxBinary, nginxConf } from './nginx.mjs';
import { freePort, SERVICE_ENV, start, status, stop } from './service.mjs';
import { median, sleep, startChild, tempDir } from './support.mjs';

const PATH = '/hello?name=x';

/** Connections this machine's TCP has accepted since boot. */
function passiveOpens() {
  const [names, values] = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  return Number(values.split(/\s+/)[names.split(/\s+/).indexOf('PassiveOpens')]);
}

async function startNginx(upstreamPort) {
  const dir = tempDir('nginx');
  mkdirSync(join(dir, 'temp'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({ dir, port, upstreamPort, pool: true }));
  const child = startChild(nginxBinary, ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const deadline = Date.now() + 10_000; (await status(port, '/healthz')) !== 200; await sleep(50)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('nginx did not start within 10 s');
  }
  return { port, child };
}

export async function measureProxy({ variants, node, memory }, { rounds, connections, durationS }) {
  if (!nginxBinary) return { missing: 'nginx is missing: apt-get install -y nginx-light' };
  const isolation = createIsolation({ memoryBytes: memory.bytes });
  const results = {};
  try {
    for (const [name, cwd] of Object.entries(variants)) {
      // The chart trusts the proxy; the rate limit counts every request without throttling the load.
      const server = await start(name, isolation.wrap(`proxy-${name}`, node, ['dist/server.js']), cwd, { ...SERVICE_ENV, TRUST_PROXY: '127.0.0.1' });
      const nginx = await startNginx(server.port);
      try {
        isolation.pinForLoad([server.child.pid]);
        await autocannon({ url: `http://127.0.0.1:${nginx.port}${PATH}`, connections, duration: 1 });
        const samples = [];
        for (let r = 0; r < rounds; r++) {
          const before = passiveOpens();
          const res = await autocannon({ url: `http://127.0.0.1:${nginx.port}${PATH}`, connections, duration: durationS, timeout: 10 });
          const bad = res.non2xx + res.errors + res.timeouts;
          if (bad > 0) throw new Error(`${name} behind nginx: ${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts`);
          // autocannon's own connections to nginx are the rest of what was accepted.
          samples.push({ rps: res.requests.average, p99: res.latency.p99, requests: res.requests.total, upstreamOpened: Math.max(0, passiveOpens() - before - connections) });
        }
        const requests = samples.reduce((n, s) => n + s.requests, 0);
        const upstreamOpened = samples.reduce((n, s) => n + s.upstreamOpened, 0);
        results[name] = {
          rps: Math.round(median(samples.map((s) => s.rps))),
          p99Ms: median(samples.map((s) => s.p99)),
          requests,
          upstreamOpened,
          keptAlive: upstreamOpened <= Math.ceil(requests / NGINX_REQUESTS_PER_CONNECTION) + connections * rounds,
        };
      } finally {
        nginx.child.kill('SIGTERM');
        await stop(server);
      }
    }
  } finally {
    isolation.cleanup();
  }
  return { pool: NGINX_POOL, requestsPerConnection: NGINX_REQUESTS_PER_CONNECTION, connections, durationS, rounds, path: PATH, results };
}
