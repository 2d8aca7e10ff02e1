#!/usr/bin/env node
// `npm run bench`: generation speed, install footprint, fleet upgrade, the emitted service's throughput next
// to their references, and a soak of the service under hostile traffic, in one run (about 10 minutes on 2
// cores). Loopback only; every loop is bounded in count and time, and a watchdog ends the run after 20 minutes
// whatever happens.
// Prints a table, writes bench/results/latest.json; with --update-readme also puts the table in README.md.
// --rerender measures nothing: it prints (and with --update-readme writes) the table of latest.json again.
//   node bench/run.mjs [--quick] [--only=footprint,generation,fleet,service,proxy,instructions,soak] [--soak-minutes=N] [--rerender] [--update-readme]
import { cpus, release, totalmem } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { measureFleet } from './fleet.mjs';
import { measureFootprint } from './footprint.mjs';
import { measureGeneration } from './generation.mjs';
import { measureInstructions } from './instructions.mjs';
import { measureProxy } from './proxy.mjs';
import { buildServices, measureService } from './service.mjs';
import { measureSoak } from './soak.mjs';
import { killChildren, mib, nodeLineBinaries, repoRoot, timed } from './support.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const want = (section) => !only || only.includes(section);

const WATCHDOG_MS = 20 * 60_000;
const watchdog = setTimeout(() => {
  console.error('bench: watchdog: still running after 20 minutes, stopping');
  killChildren();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

const GOALS = { vsCreateVite: 1.5, vsBareNode: 3, fleetVsGeneration: 10, installedMiB: 6, packages: 15, rpsVsReference: { fastify: 0.9, express: 0.75 }, p99VsReference: 1.5, rssMiB: 96, readyMs: 300, soakGrowthMiB: 10 };
const config = quick
  ? { generationRounds: 5, fleetSize: 20, serviceRounds: 1, connections: 10, durationS: 3, soakS: 30 }
  : { generationRounds: 15, fleetSize: 100, serviceRounds: 2, connections: 10, durationS: 5, soakS: 150 };
const soakMinutes = argv.find((a) => a.startsWith('--soak-minutes='));
if (soakMinutes) config.soakS = Math.round(Number(soakMinutes.slice(15)) * 60);

const latestPath = join(repoRoot, 'bench', 'results', 'latest.json');
const rerender = argv.includes('--rerender');
const soakOnly = only?.length === 1 && only[0] === 'soak';
// A soak run on its own keeps the rest of the last results: the README's main table is rendered from them.
const results = rerender ? JSON.parse(readFileSync(latestPath, 'utf8')) : soakOnly ? { ...JSON.parse(readFileSync(latestPath, 'utf8')), soak: (await measure()).soak } : await measure();
const { machine } = results;

async function measure() {
  const machine = {
    cpu: `${cpus()[0]?.model.trim()} × ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
  };
  const started = Date.now();
  const log = (m) => console.error(`bench: ${m} (${Math.round((Date.now() - started) / 1000)} s)`);

  const results = { date: new Date().toISOString(), machine, config, goals: GOALS };
  // The footprint step packs and installs the package: the other sections run that installed copy.
  log('footprint: build, pack, install the tarball into a temp prefix');
  const footprint = measureFootprint();
  const { bin } = footprint;
  // The installed copy goes away however the run ends (the watchdog and errors included).
  process.once('exit', () => rmSync(footprint.work, { recursive: true, force: true }));
  if (want('footprint')) results.footprint = { ...footprint, work: undefined, bin: undefined };

  let oneGenerationMs;
  if (want('generation') || want('fleet')) {
    log(`generation: ${config.generationRounds} alternating rounds`);
    results.generation = measureGeneration({ bin, rounds: config.generationRounds, deadline: Date.now() + 3 * 60_000 });
    oneGenerationMs = results.generation.medianMs.ours;
    // npx runs on whatever Node the user has: every line the generator supports (the official binaries of the
    // lines in data/versions.json, as the tests use them), besides the machine's.
    results.generationLines = [];
    for (const { major, node } of nodeLineBinaries()) {
      if (timed(node, ['--version']).stdout.trim() === process.version) continue;
      log(`generation on Node ${major}: ${config.generationRounds} alternating rounds`);
      results.generationLines.push(measureGeneration({ bin, rounds: config.generationRounds, deadline: Date.now() + 3 * 60_000, node }));
    }
  }
  if (want('fleet')) {
    log(`fleet: ${config.fleetSize} services`);
    results.fleet = measureFleet({ bin, size: config.fleetSize, oneGenerationMs });
  }
  if (want('service') || want('proxy') || want('instructions') || want('soak')) {
    log('service: build the fastify and express variants');
    const built = buildServices({ bin });
    process.once('exit', built.remove);
    if (want('service')) {
      log('service: load both variants and bare node:http');
      results.service = await measureService(built, { rounds: config.serviceRounds, connections: config.connections, durationS: config.durationS });
    }
    if (want('proxy')) {
      log('proxy: both variants behind nginx pooling upstream connections');
      results.proxy = await measureProxy(built, { rounds: config.serviceRounds, connections: config.connections, durationS: config.durationS });
    }
    if (want('instructions')) {
      log('instructions: each variant and the reference under callgrind');
      results.instructions = await measureInstructions(built);
    }
    if (want('soak')) {
      log(`soak: ${config.soakS} s per variant under mixed and hostile traffic`);
      results.soak = await measureSoak(built, { durationS: config.soakS, connections: config.connections });
    }
    built.remove();
  }
  rmSync(footprint.work, { recursive: true, force: true });
  results.durationS = Math.round((Date.now() - started) / 1000);
  return results;
}

// ---- table ----
const ok = (pass) => (pass ? '✅' : '❌');
const x = (n) => `${n.toFixed(2)}×`;
// autocannon records latency in whole milliseconds: a p99 of 0 means under 1 ms.
const p99 = (ms) => (ms === 0 ? '<1 ms' : `${ms} ms`);
const rows = [];
if (results.footprint) {
  const f = results.footprint.ours;
  const v = results.footprint.createVite;
  rows.push(['install: packed / installed size', `${(f.packedBytes / 1024).toFixed(0)} KiB / ${mib(f.installedBytes).toFixed(2)} MiB`, `create-vite ${mib(v.installedBytes).toFixed(2)} MiB`, `≤ ${GOALS.installedMiB} MiB ${ok(mib(f.installedBytes) <= GOALS.installedMiB)}`]);
  rows.push(['install: packages (production)', `${f.packages} (runtime deps: ${f.runtimeDependencies.length || 'none'})`, `create-vite ${v.packages}`, `≤ ${GOALS.packages} ${ok(f.packages <= GOALS.packages)}`]);
}
for (const g of [results.generation, ...(results.generationLines ?? [])].filter(Boolean)) {
  const on = `Node ${(g.node ?? machine.node).split('.')[0].slice(1)}`;
  rows.push([`generation: one service (median), ${on}`, `${g.medianMs.ours.toFixed(0)} ms`, `create-vite ${g.medianMs.createVite.toFixed(0)} ms: ${x(g.ratioToCreateVite)}`, `≤ ${GOALS.vsCreateVite}× ${ok(g.ratioToCreateVite <= GOALS.vsCreateVite)}`]);
  rows.push([`generation vs bare \`node -e ""\`, ${on}`, x(g.ratioToBareNode), `bare node ${g.medianMs.bareNode.toFixed(0)} ms`, `≤ ${GOALS.vsBareNode}× ${ok(g.ratioToBareNode <= GOALS.vsBareNode)}`]);
  rows.push([`\`--help\`, ${on}`, `${g.medianMs.oursHelp.toFixed(0)} ms`, `${x(g.medianMs.oursHelp / g.medianMs.bareNode)} bare node`, '']);
}
if (results.fleet) {
  const f = results.fleet;
  rows.push([`fleet: upgrade ${f.services} services`, `${(f.upgradeMs / 1000).toFixed(1)} s (${f.perServiceMs.toFixed(0)} ms each, ${f.servicesPerSecond.toFixed(0)} services/s)`, `${x(f.ratioToOneGeneration)} one generation`, `≤ ${GOALS.fleetVsGeneration}× ${ok(f.ratioToOneGeneration <= GOALS.fleetVsGeneration)}`]);
  rows.push([`fleet: upgrade --check ${f.services} services`, `${(f.checkMs / 1000).toFixed(1)} s`, `${x(f.checkRatioToOneGeneration)} one generation`, '']);
  if (f.audit) rows.push([`fleet: check ${f.audit.services} services`, `${(f.audit.ms / 1000).toFixed(1)} s (${f.audit.perServiceMs.toFixed(0)} ms each)`, `${x(f.audit.ratioToOneGeneration)} one generation`, '']);
}
if (results.service) {
  const s = results.service;
  const routeName = (route) => (route === 'hello' ? 'GET /hello?name=x' : '/healthz');
  const load = (v) => `${v.rps} req/s, p99 ${p99(v.p99Ms)}, ${v.cpuMicrosPerRequest} µs CPU/req`;
  for (const [route, v] of Object.entries(s.results['bare-hardened'].routes)) {
    rows.push([`reference: bare node:http + the same hardening, ${routeName(route)}`, load(v), `bare ${s.results.bare.routes[route].rps} req/s, ${s.results.bare.routes[route].cpuMicrosPerRequest} µs CPU/req: ${x(v.rpsRatioToBare)} req/s`, '']);
  }
  for (const name of ['fastify', 'express']) {
    const r = s.results[name];
    for (const [route, v] of Object.entries(r.routes)) {
      // The goals are against the practical limit, the hand-written hardened reference; bare is for scale.
      const ref = s.results['bare-hardened'].routes[route];
      const p99Met = v.p99Ms <= GOALS.p99VsReference * ref.p99Ms || v.p99Ms === 0;
      rows.push([
        `${name} ${routeName(route)}`,
        load(v),
        `reference: ${x(v.rpsRatioToBareHardened)} req/s, p99 ${v.p99RatioToBareHardened === undefined ? `${p99(v.p99Ms)} vs <1 ms` : x(v.p99RatioToBareHardened)}; bare: ${x(v.rpsRatioToBare)} req/s, ${x(v.cpuRatioToBare)} CPU/req`,
        `≥ ${GOALS.rpsVsReference[name]}× req/s ${ok(v.rpsRatioToBareHardened >= GOALS.rpsVsReference[name])}, p99 ≤ ${GOALS.p99VsReference}× ${ok(p99Met)}`,
      ]);
    }
    const b = s.results.bare;
    const memory = (m) => `${mib(m.peakRssBytes).toFixed(0)} MiB (${mib(m.peakRssAnonBytes).toFixed(0)}${m.cgroupPeakBytes === undefined ? '' : `; cgroup ${mib(m.cgroupPeakBytes).toFixed(0)}`})`;
    // Judged on what the memory limit is enforced against (the cgroup's charge) when the run had a cgroup;
    // VmHWM also counts the node binary's shared, reclaimable file pages (bare node:http alone has ~80 MiB).
    const judged = r.cgroupPeakBytes ?? r.peakRssBytes;
    rows.push([`${name}: peak RSS (anonymous; cgroup peak) / ready`, `${memory(r)} / ${r.readyMs} ms`, `bare ${memory(b)} / ${b.readyMs} ms`, `≤ ${GOALS.rssMiB} MiB${r.cgroupPeakBytes === undefined ? '' : ' (cgroup)'} ${ok(mib(judged) <= GOALS.rssMiB)}, ≤ ${GOALS.readyMs} ms ${ok(r.readyMs <= GOALS.readyMs)}`]);
  }
}
if (results.proxy?.results) {
  const p = results.proxy;
  for (const [name, v] of Object.entries(p.results)) {
    const direct = results.service?.results[name]?.routes.hello.rps;
    rows.push([
      `${name} GET /hello?name=x behind nginx (upstream keep-alive pool)`,
      `${v.rps} req/s, p99 ${p99(v.p99Ms)}`,
      `${v.upstreamOpened} upstream connections opened for ${v.requests} requests (nginx renews one every ${p.requestsPerConnection})${direct ? `; direct ${direct} req/s` : ''}`,
      `keep-alive kept ${ok(v.keptAlive)}`,
    ]);
  }
}
if (results.instructions?.results) {
  const i = results.instructions;
  const ref = i.results['bare-hardened'].perRequest;
  for (const name of ['fastify', 'express']) {
    const v = i.results[name];
    rows.push([
      `${name} GET /hello?name=x: instructions per request (callgrind)`,
      `${(v.perRequest / 1000).toFixed(1)} k`,
      `reference ${(ref / 1000).toFixed(1)} k: ${x(v.referenceRatio)}`,
      `≥ ${GOALS.rpsVsReference[name]}× ${ok(v.referenceRatio >= GOALS.rpsVsReference[name])}`,
    ]);
  }
}
// The soak has its own table and README block: it is measured (and may be re-run) apart from the rest.
const soakRows = [];
if (results.soak) {
  for (const [name, r] of Object.entries(results.soak.results)) {
    // One point every 30 s: RSS (anonymous RSS) in MiB.
    const points = r.samples.filter((p, i) => i === r.samples.length - 1 || p.s % 30 < 5);
    const curve = points.map((p) => `${p.s} s ${p.rssMiB.toFixed(0)} (${p.anonMiB.toFixed(0)})`).join(' · ');
    const settled = points.find((p) => p.s >= 30) ?? points[0];
    const growth = points.at(-1).rssMiB - settled.rssMiB;
    const hostile = (prefix) => Object.entries(r.hostile).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => `${v} × ${k.split(' ')[1]}`).join(', ');
    const judged = r.cgroupPeakMiB ?? Math.max(...r.samples.map((p) => p.rssMiB));
    soakRows.push([
      `soak ${name}: RSS (anonymous) in MiB over ${Math.round(r.durationS / 60 * 10) / 10} min`,
      curve,
      `${r.requests} requests from ${r.clientAddresses} client addresses (${r.non2xx + r.errors} not 2xx); slow headers: ${hostile('slow')}; oversized: ${hostile('oversized')}${r.cgroupPeakMiB === undefined ? '' : `; cgroup peak ${r.cgroupPeakMiB.toFixed(0)} MiB`}`,
      `flat after 30 s: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB ≤ ${GOALS.soakGrowthMiB} ${ok(growth <= GOALS.soakGrowthMiB)}, ≤ ${GOALS.rssMiB} MiB${r.cgroupPeakMiB === undefined ? '' : ' (cgroup)'} ${ok(judged <= GOALS.rssMiB)}`,
    ]);
  }
}
const header = ['measure', 'create-hardened-service', 'reference', 'goal'];
const tableOf = (lines) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const table = tableOf(rows);
const notes = [
  `Machine: ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, generator on Node ${machine.node}; ${results.date.slice(0, 10)}; ${results.config.serviceRounds === 1 ? 'quick run' : 'full run'} in ${results.durationS} s.`,
  results.generation ? `Generation: ${results.generation.runs} alternating runs each of the installed tarball's bin (\`--yes\`), \`create-vite --template vanilla-ts --no-interactive\` and \`node -e ""\`, all on the same Node (the machine's, then each line the generator supports); medians. ${generationLoad()}` : '',
  results.fleet?.upgradeCostSplit ? upgradeSplitNote(results.fleet) : '',
  results.service ? serviceNote(results.service) : '',
  results.proxy?.results ? `Proxy: Debian's nginx in front of each variant, its upstream pool as ingress-nginx configures one (keepalive ${results.proxy.pool}, HTTP/1.1, Connection cleared; bench/nginx.mjs, the tests' configuration), TRUST_PROXY=127.0.0.1; autocannon, ${results.proxy.connections} connections, ${results.proxy.durationS} s × ${results.proxy.rounds} rounds through nginx; upstream connections counted as the TCP connections the machine accepted (/proc/net/snmp) less autocannon's own. Kept: no more than nginx's renewals plus one per load connection.` : results.proxy?.missing ?? '',
  results.instructions?.results ? `Instructions: each server under valgrind's callgrind (Node ${results.service?.node ?? 'of the image'}), answering ${results.instructions.few} and then ${results.instructions.many} requests to ${results.instructions.path} on one keep-alive connection; the difference per request (start-up and warm-up cancel out). Counted, not timed: the same on a busy host as on a quiet one, so this is the ratio the goals are best judged on (reference ÷ ours).` : results.instructions?.missing ?? '',
].filter(Boolean);

/** The machine's load while generation was timed: on a shared host, ratios move with it. */
function generationLoad() {
  const runs = [results.generation, ...(results.generationLines ?? [])].filter((g) => g.loadAverage);
  if (runs.length === 0) return '';
  const loads = runs.flatMap((g) => g.loadAverage);
  const steal = Math.max(...runs.map((g) => g.stealShare));
  return `Load average (1 min) during these runs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} CPUs; the hypervisor stole up to ${(steal * 100).toFixed(0)}% of CPU time.`;
}

function upgradeSplitNote(f) {
  const s = f.upgradeCostSplit;
  const parts = Object.entries(s.shares).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`);
  return `Fleet: ${f.services} copies of one service, rewound to an older generator (README and values.yaml changed, values.yaml also edited by the team), in one run; check runs over the upgraded fleet with the tests' helm. The fleet is spread over worker threads, one per core; in one thread, an upgrade kept it busy ${(s.perServiceBusyMs).toFixed(0)} ms per service (one more run, under the CPU profiler): ${parts.join(', ')}.`;
}

function soakNote(k) {
  const r = Object.values(k.results)[0];
  return [
    `Soak: ${k.date.slice(0, 10)}, ${k.machine}, Node ${k.node}; each variant for ${r.durationS} s, ${r.memoryLimit ? `in a memory cgroup of ${r.memoryLimit}` : `without a memory cgroup (${r.memoryLimitMissing})`}${r.cpuPinned ? ', on CPU 1 (load on CPU 0)' : ''}, logs to /dev/null:`,
    `autocannon GET /hello?name=soak with X-Forwarded-For cycling through ${k.clientAddresses} IPv6 /56 networks (TRUST_PROXY=127.0.0.1; the rate limiter's store full at 10,000 and evicting),`,
    `${k.slowConnections} connections trickling their headers until the 5 s headers timeout (reopened at once), and ${k.oversizedPerSecond} bodies a second declared at 1 GiB; RSS sampled every 5 s (bench/soak.mjs).`,
  ].join(' ');
}

function serviceNote(s) {
  const { cpuPinned, memoryLimit, memoryLimitMissing } = s.isolation;
  return [
    `Service: Node ${s.node}; autocannon, ${s.connections} connections, ${s.durationS} s × ${s.rounds} rounds per route (medians) after a 1 s warm-up, on 127.0.0.1.`,
    `All hardening on, logs to /dev/null; RATE_LIMIT_MAX=${s.env.RATE_LIMIT_MAX} per 60 s so that the limiter counts every request but does not throttle the load.`,
    'bare = node:http doing the same route work only (bench/bare-server.mjs); bare + same hardening = node:http with the same headers, request id, rate-limit counter, log line and metrics, by hand (bench/bare-hardened-server.mjs).',
    memoryLimit ? `Each server ran in a memory cgroup of ${memoryLimit} (the chart's memory limit), so V8 sized its heap as in the pod; the memory goal is judged on the cgroup's peak charge (what the limit is enforced against).` : `No memory cgroup (${memoryLimitMissing}): V8 sized its heap for this host's memory, not for the pod's.`,
    cpuPinned ? 'Servers on CPU 1, autocannon on CPU 0.' : 'Servers and autocannon shared the CPUs.',
    `The hypervisor stole ${(s.stealShare * 100).toFixed(0)}% of CPU time during the service runs: req/s moves with it, CPU per request much less.`,
    'Peak RSS is VmHWM; in brackets the peak anonymous RSS (without the node binary\'s file-backed pages) and the cgroup\'s peak charge.',
  ].join(' ');
}

const soak = results.soak ? `${tableOf(soakRows)}\n\n${soakNote(results.soak)}` : '';
console.log(`\n${table}\n\n${notes.join('\n')}${soak ? `\n\n${soak}` : ''}`);
if (!rerender) {
  mkdirSync(dirname(latestPath), { recursive: true });
  writeFileSync(latestPath, `${JSON.stringify(results, null, 2)}\n`);
  console.error('bench: wrote bench/results/latest.json');
}

/** Replaces what README.md holds between the markers of `block`. */
function updateReadme(block, content) {
  const start = `<!-- ${block}:start (npm run bench -- --update-readme) -->`;
  const end = `<!-- ${block}:end -->`;
  const path = join(repoRoot, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${block} markers`);
  writeFileSync(path, `${readme.slice(0, a + start.length)}\n${content}\n${readme.slice(b)}`);
  console.error(`bench: updated the ${block} block of README.md`);
}

if (argv.includes('--update-readme')) {
  // --only=soak leaves the main table as it is.
  if (rows.length > 0) updateReadme('bench', `${table}\n\n${notes.join('\n')}`);
  if (soak) updateReadme('soak', soak);
}
