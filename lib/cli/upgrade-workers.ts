import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CliIO } from './io.js';
import type { ParsedArgs } from './parse-args.js';

/** What a service's run printed, in order: plain data, so that a worker thread can hand it over. */
export type RecordedOutput = ['stdout' | 'stderr', string][];

/** What the main thread sends a worker: one service to upgrade. */
export interface FleetTask {
  index: number;
  dir: string;
}

/** What a worker sends back when that service is done. */
export interface FleetResult {
  index: number;
  exitCode: number;
  written: RecordedOutput;
}

/** What every worker starts with (workerData). */
export interface FleetWorkerData {
  args: ParsedArgs;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The worker's entry point: dist/upgrade-worker.js next to the bundle's chunks folder (scripts/build.mjs). Run
 * from the sources there is none, and a fleet is upgraded in the main thread.
 */
const WORKER_FILE = fileURLToPath(new URL('../upgrade-worker.js', import.meta.url));

/** A thread pays for its start (Node's and the upgrade code's, ~50 ms) from about this many services on. */
const SERVICES_PER_THREAD = 4;

/** Services one worker upgrades at once: their file I/O overlaps. */
const IN_FLIGHT_PER_THREAD = 4;

/**
 * How many worker threads a fleet of this size gets (1: none, the main thread does it): one per core, at most
 * CREATE_HARDENED_SERVICE_THREADS (e.g. 1 on a runner short of memory: each thread holds its own copy of the code).
 */
export function fleetThreads(services: number, env: NodeJS.ProcessEnv): number {
  if (!existsSync(WORKER_FILE)) return 1;
  const cap = Number.parseInt(env.CREATE_HARDENED_SERVICE_THREADS ?? '', 10);
  const cores = Number.isInteger(cap) && cap >= 1 ? Math.min(cap, availableParallelism()) : availableParallelism();
  return Math.max(1, Math.min(cores, Math.floor(services / SERVICES_PER_THREAD)));
}

/**
 * Upgrades `dirs` over `threads` worker threads, each handed the next service as soon as it has room (so a slow
 * service does not hold up a shard), and replays each service's output in the order of `dirs` as soon as it and
 * every earlier one are done. Returns each service's exit code, in that order.
 */
export async function upgradeInWorkers(
  dirs: readonly string[],
  args: ParsedArgs,
  io: CliIO,
  threads: number,
  replay: (written: RecordedOutput) => void,
): Promise<number[]> {
  const exitCodes: number[] = new Array(dirs.length);
  const outputs: (RecordedOutput | undefined)[] = new Array(dirs.length);
  let next = 0;
  let delivered = 0;
  const deliver = () => {
    for (; delivered < dirs.length && outputs[delivered]; delivered++) {
      replay(outputs[delivered]!);
      outputs[delivered] = [];
    }
  };
  const workerData: FleetWorkerData = { args, cwd: io.cwd, env: { ...io.env } };
  const runThread = () =>
    new Promise<void>((resolveThread, rejectThread) => {
      const worker = new Worker(WORKER_FILE, { workerData });
      let inFlight = 0;
      const feed = () => {
        for (; inFlight < IN_FLIGHT_PER_THREAD && next < dirs.length; inFlight++) {
          const task: FleetTask = { index: next, dir: dirs[next]! };
          next++;
          worker.postMessage(task);
        }
        if (inFlight === 0) void worker.terminate().then(() => resolveThread());
      };
      worker.on('message', (result: FleetResult) => {
        inFlight--;
        exitCodes[result.index] = result.exitCode;
        outputs[result.index] = result.written;
        deliver();
        feed();
      });
      worker.once('error', rejectThread);
      worker.once('exit', (code) => {
        if (inFlight > 0) rejectThread(new Error(`an upgrade worker stopped (exit ${code}) with ${inFlight} services unfinished: run upgrade again (an interrupted service is rolled back first)`));
      });
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(threads, dirs.length) }, runThread));
  return exitCodes;
}
