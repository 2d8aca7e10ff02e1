// The emitted service under load: the fastify and express variants, built as a team would (npm ci, npm run
// build), started with `node dist/server.js` with all hardening on (security headers, rate limit, one JSON log
// line per request, request ids), next to two references, all on loopback: bench/bare-server.mjs (node:http,
// route work only) and bench/bare-hardened-server.mjs (node:http, route work plus the same hardening by hand).
// Each server runs in a memory cgroup sized as the chart's memory limit, on its own CPU (bench/isolation.mjs).
// autocannon loads /healthz and GET /hello?name=x on each in turn, round after round; medians. Besides req/s,
// the server's CPU time per request: it moves much less than req/s when the host steals CPU time.
// Everything is bounded in time.
import autocannon from 'autocannon';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { cpuMicros, createIsolation, stealMeter } from './isolation.mjs';
import { imageNode, median, repoRoot, run, sleep, startChild, tempDir, timed } from './support.mjs';

/**
 * The rate limit is on, but set high enough not to throttle the load (RATE_LIMIT_MAX allows at most
 * 1,000,000 per window; one window of 60 s at this machine's rates stays below it). Logs go to /dev/null.
 */
export const SERVICE_ENV = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '60000',
  SHUTDOWN_DELAY_MS: '0',
  SHUTDOWN_TIMEOUT_MS: '2000',
};

const ROUTES = { healthz: '/healthz', hello: '/hello?name=x' };
const READY_ROUNDS = 7;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function status(port, path) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/** A field of /proc/<pid>/status in bytes: VmHWM (peak resident set), RssAnon (heap etc., not file-backed). */
export function procStatus(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Starts a server and returns it once /readyz answers 200, with the time that took (bounded: 10 s). */
export async function start(name, command, cwd, env) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = startChild(command.cmd, command.args, { cwd, env: { ...process.env, ...env, PORT: String(port), SECRETS_DIR: cwd }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(2)) {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${stderr.trim()}`);
    if ((await status(port, '/readyz')) === 200) return { name, child, port, readyMs: Number(process.hrtime.bigint() - t0) / 1e6 };
  }
  throw new Error(`${name} not ready within 10 s: ${stderr.trim()}`);
}

export async function stop(server) {
  server.child.kill('SIGTERM');
  for (let i = 0; i < 50 && server.child.exitCode === null; i++) await sleep(100);
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
}

/**
 * Loads one route of one server. Meanwhile samples the server's anonymous RSS every 100 ms: VmHWM also counts
 * the pages of the node binary itself (file-backed, shared), which are most of an idle process.
 */
async function load(server, path, { connections, durationS }) {
  const sample = () => {
    const anon = procStatus(server.child.pid, 'RssAnon');
    if (anon !== undefined) server.peakRssAnon = Math.max(server.peakRssAnon ?? 0, anon);
  };
  const timer = setInterval(sample, 100);
  const cpuBefore = cpuMicros(server.child.pid);
  try {
    const res = await autocannon({ url: `http://127.0.0.1:${server.port}${path}`, connections, duration: durationS, pipelining: 1, timeout: 10 });
    return { ...res, cpuMicrosPerRequest: (cpuMicros(server.child.pid) - cpuBefore) / Math.max(1, res.requests.total) };
  } finally {
    clearInterval(timer);
  }
}

/** The memory limit of the generated chart's default values: V8 sizes its heap from it in the pod. */
function chartMemoryLimit(serviceDir) {
  const raw = parse(readFileSync(join(serviceDir, 'chart', 'values.yaml'), 'utf8')).resources.limits.memory;
  const m = /^(\d+)(Mi|Gi)$/.exec(raw);
  if (!m) throw new Error(`chart memory limit ${raw}: expected Mi or Gi`);
  return { text: raw, bytes: Number(m[1]) * 2 ** (m[2] === 'Gi' ? 30 : 20) };
}

/** Generates and builds one framework variant with the installed generator. */
function buildVariant(bin, work, framework, env) {
  const dir = join(work, `svc-${framework}`);
  timed(process.execPath, [bin, dir, '--yes', '--framework', framework], { env: { CI: 'true' } });
  const install = existsSync(join(dir, 'package-lock.json')) ? 'ci' : 'install';
  run('npm', [install, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, timeoutMs: 300_000 });
  run('npm', ['run', 'build', '--silent'], { cwd: dir, env });
  return dir;
}

/**
 * Generates and builds the fastify and express variants once, for the throughput runs and the soak. Call
 * `remove()` when done.
 */
export function buildServices({ bin }) {
  const work = tempDir('service');
  // The service runs on its image's Node line (its package.json says so and its .npmrc is engine-strict).
  const node = imageNode();
  const nodeVersion = timed(node, ['--version']).stdout.trim();
  const env = { PATH: `${dirname(node)}:${process.env.PATH}`, npm_config_update_notifier: 'false' };
  try {
    const variants = { fastify: buildVariant(bin, work, 'fastify', env), express: buildVariant(bin, work, 'express', env) };
    return { work, node, nodeVersion, variants, memory: chartMemoryLimit(variants.fastify), remove: () => rmSync(work, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

export async function measureService({ work, node, nodeVersion, variants, memory }, { rounds, connections, durationS }) {
  mkdirSync(join(work, 'bare'), { recursive: true });
  const isolation = createIsolation({ memoryBytes: memory.bytes });
  const bench = (file) => join(repoRoot, 'bench', file);
  const commands = {
    bare: { cwd: join(work, 'bare'), args: [bench('bare-server.mjs')] },
    // In the fastify service's folder: its helmet and pino.
    'bare-hardened': { cwd: variants.fastify, args: [bench('bare-hardened-server.mjs')] },
    fastify: { cwd: variants.fastify, args: ['dist/server.js'] },
    express: { cwd: variants.express, args: ['dist/server.js'] },
  };

  const servers = [];
  const steal = stealMeter();
  try {
    // Start-up: each server started and stopped READY_ROUNDS times, in turn; the median counts.
    const readyMs = {};
    for (let r = 0; r < READY_ROUNDS; r++) {
      for (const [name, { cwd, args }] of Object.entries(commands)) {
        const server = await start(name, isolation.wrap(name, node, args), cwd, SERVICE_ENV);
        (readyMs[name] ??= []).push(server.readyMs);
        await stop(server);
      }
    }
    // Started one after the other, so that start-up times do not compete for the two cores.
    for (const [name, { cwd, args }] of Object.entries(commands)) servers.push(await start(name, isolation.wrap(name, node, args), cwd, SERVICE_ENV));
    isolation.pinForLoad(servers.map((s) => s.child.pid));
    for (const s of servers) {
      for (const path of Object.values(ROUTES)) if ((await status(s.port, path)) !== 200) throw new Error(`${s.name} ${path} is not 200`);
    }
    // Warm-up (JIT, connection pools): 1 s on each route of each server, not counted.
    for (const s of servers) for (const path of Object.values(ROUTES)) await load(s, path, { connections, durationS: 1 });

    const samples = {};
    for (let r = 0; r < rounds; r++) {
      for (const [route, path] of Object.entries(ROUTES)) {
        for (const s of servers) {
          const res = await load(s, path, { connections, durationS });
          const bad = res.non2xx + res.errors + res.timeouts;
          if (bad > 0) throw new Error(`${s.name} ${path}: ${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts (rate limit?)`);
          (samples[`${s.name} ${route}`] ??= []).push({ rps: res.requests.average, p99: res.latency.p99, p50: res.latency.p50, cpuUs: res.cpuMicrosPerRequest });
        }
      }
    }
    const results = {};
    for (const s of servers) {
      results[s.name] = {
        readyMs: Math.round(median(readyMs[s.name])),
        readySamplesMs: readyMs[s.name].map(Math.round),
        peakRssBytes: procStatus(s.child.pid, 'VmHWM'),
        peakRssAnonBytes: s.peakRssAnon,
        cgroupPeakBytes: isolation.peakBytes(s.name),
        routes: {},
      };
      for (const route of Object.keys(ROUTES)) {
        const list = samples[`${s.name} ${route}`];
        results[s.name].routes[route] = {
          rps: Math.round(median(list.map((x) => x.rps))),
          p99Ms: median(list.map((x) => x.p99)),
          p50Ms: median(list.map((x) => x.p50)),
          cpuMicrosPerRequest: Math.round(median(list.map((x) => x.cpuUs)) * 10) / 10,
        };
      }
    }
    for (const name of ['bare-hardened', ...Object.keys(variants)]) {
      for (const route of Object.keys(ROUTES)) {
        const ours = results[name].routes[route];
        const bare = results.bare.routes[route];
        const hardened = results['bare-hardened'].routes[route];
        ours.rpsRatioToBare = ours.rps / bare.rps;
        ours.rpsRatioToBareHardened = ours.rps / hardened.rps;
        ours.cpuRatioToBare = ours.cpuMicrosPerRequest / bare.cpuMicrosPerRequest;
        ours.p99RatioToBare = bare.p99Ms > 0 ? ours.p99Ms / bare.p99Ms : undefined;
        ours.p99RatioToBareHardened = hardened.p99Ms > 0 ? ours.p99Ms / hardened.p99Ms : undefined;
      }
    }
    return {
      node: nodeVersion,
      connections,
      durationS,
      rounds,
      env: SERVICE_ENV,
      logsTo: '/dev/null',
      isolation: {
        cpuPinned: isolation.pinned,
        memoryLimit: isolation.memoryReason === undefined ? memory.text : null,
        memoryLimitMissing: isolation.memoryReason,
      },
      stealShare: steal(),
      results,
    };
  } finally {
    for (const s of servers) await stop(s);
    isolation.cleanup();
  }
}
