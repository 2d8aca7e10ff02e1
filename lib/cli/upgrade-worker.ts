// A worker thread of a fleet upgrade (lib/cli/upgrade-workers.ts starts it): upgrades each service it is sent,
// several at once, and sends back its exit code and what it printed.
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { CliIO } from './io.js';
import { recordingIO, upgradeFleetMember } from './upgrade-command.js';
import type { FleetResult, FleetTask, FleetWorkerData } from './upgrade-workers.js';

const { args, cwd, env } = workerData as FleetWorkerData;
// No terminal here: a fleet run never prompts (the main thread decided so).
const io: CliIO = { stdin: Readable.from([]), stdout: process.stdout, stderr: process.stderr, env, cwd };

parentPort!.on('message', async ({ index, dir }: FleetTask) => {
  const own = recordingIO(io);
  const exitCode = await upgradeFleetMember(dir, args, own.io, false);
  const result: FleetResult = { index, exitCode, written: own.written };
  parentPort!.postMessage(result);
});
