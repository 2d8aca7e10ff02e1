// The service's CPU work per request counted in instructions by valgrind's callgrind instead of timed:
// repeatable whatever else the host does (the hypervisor's steal, a load on the other core), so the ratio to
// the hand-written reference means the same on a busy machine as on a quiet one. Each server runs under
// callgrind twice, answering FEW and then MANY requests on one keep-alive connection; the difference divided
// by MANY − FEW is one request in the steady state (start-up, JIT warm-up and shutdown cancel out).
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, SERVICE_ENV, status } from './service.mjs';
import { repoRoot, sleep, startChild } from './support.mjs';

const FEW = 2_000;
const MANY = 6_000;
const PATH = '/hello?name=x';

/** Total instructions of one run of `args` under callgrind that answers `requests` requests. */
async function countRun(node, cwd, args, requests) {
  const port = await freePort();
  const env = { ...process.env, ...SERVICE_ENV, PORT: String(port), PROBE_PORT: '0', SECRETS_DIR: cwd };
  const child = startChild('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Node starts some 50 times slower under callgrind.
  for (const deadline = Date.now() + 120_000; (await status(port, '/readyz')) !== 200; await sleep(200)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${args.join(' ')} not ready under callgrind: ${stderr.slice(-500)}`);
  }
  const res = await autocannon({ url: `http://127.0.0.1:${port}${PATH}`, connections: 1, amount: requests, timeout: 30 });
  if (res.non2xx + res.errors + res.timeouts > 0) throw new Error(`${args.join(' ')} under callgrind: ${res.non2xx} non-2xx, ${res.errors} errors`);
  child.kill('SIGTERM');
  await exited;
  const collected = /Collected : (\d+)/.exec(stderr);
  if (!collected) throw new Error(`callgrind printed no total: ${stderr.slice(-500)}`);
  return Number(collected[1]);
}

export async function measureInstructions({ node, variants }) {
  if (spawnSync('valgrind', ['--version']).status !== 0) return { missing: 'valgrind is missing: apt-get install -y valgrind' };
  const servers = {
    'bare-hardened': { cwd: variants.fastify, args: [join(repoRoot, 'bench', 'bare-hardened-server.mjs')] },
    fastify: { cwd: variants.fastify, args: ['dist/server.js'] },
    express: { cwd: variants.express, args: ['dist/server.js'] },
  };
  const results = {};
  for (const [name, { cwd, args }] of Object.entries(servers)) {
    const few = await countRun(node, cwd, args, FEW);
    const many = await countRun(node, cwd, args, MANY);
    results[name] = { perRequest: Math.round((many - few) / (MANY - FEW)) };
  }
  for (const name of Object.keys(variants)) results[name].referenceRatio = results['bare-hardened'].perRequest / results[name].perRequest;
  return { path: PATH, few: FEW, many: MANY, results };
}
