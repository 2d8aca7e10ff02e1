// Runs the servers under load the way the chart runs the pod, as far as this machine allows:
// - in a memory cgroup with the chart's memory limit (V8 sizes its heap from that limit, as in a pod,
//   instead of from the host's memory), when the bench may create one (root, cgroup v1 or v2);
// - under load, pinned to their own CPU (the chart's CPU limit is one core), with the load generator on
//   another, when `taskset` exists and there are two CPUs or more: on a shared 2-core machine, this is what
//   keeps the server and autocannon from taking turns on the same core. Start-up is not pinned (Node starts
//   on several threads, and a pod's CPU limit is a time quota, not one core).
// Where either is not possible, the run goes on without it and the results say so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

function canPin() {
  return cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** The cgroup v2 folder this process is in (`0::/path` in /proc/self/cgroup). */
function ownV2Group() {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? undefined : join(V2_ROOT, line.slice(3));
}

/** Makes `dir` a cgroup with `limitFile` set to `bytes`; removes it again if the limit cannot be set. */
function limitedGroup(dir, limitFile, bytes, peakFile, currentFile) {
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, limitFile), String(bytes));
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return { dir, peakFile, currentFile };
}

/**
 * A memory cgroup limited to `bytes`, or the reason there is none. cgroup v2 needs the memory controller
 * delegated to this process's group (systemd-run --user -p Delegate=yes, or root in a container).
 */
function createMemoryGroup(name, bytes) {
  const attempts = [
    () => {
      if (!existsSync(join(V1_ROOT, 'memory.limit_in_bytes'))) throw new Error('no cgroup v1 memory controller');
      return limitedGroup(join(V1_ROOT, name), 'memory.limit_in_bytes', bytes, 'memory.max_usage_in_bytes', 'memory.usage_in_bytes');
    },
    () => {
      const parent = ownV2Group();
      if (parent === undefined || !existsSync(join(V2_ROOT, 'cgroup.controllers'))) throw new Error('no cgroup v2');
      return limitedGroup(join(parent, name), 'memory.max', bytes, 'memory.peak', 'memory.current');
    },
  ];
  const reasons = [];
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (err) {
      reasons.push(err.message.split('\n')[0]);
    }
  }
  return { reason: reasons.join('; ') };
}

/**
 * Server and load placement for one bench run. `wrap(name, cmd, args)` gives the command that starts a server
 * in its cgroup; `pinForLoad(pids)` puts the started servers on one CPU and the load on another; `peakBytes(name)` and
 * `currentBytes(name)` are its cgroup's peak and current charge;
 * `cleanup()` removes the cgroups (call it after the servers have exited).
 */
export function createIsolation({ memoryBytes }) {
  const pinned = canPin();
  // Every start gets a new cgroup, so that a peak is that of one run; `groups` holds each server's latest.
  const created = [];
  const groups = new Map();
  let memoryReason;
  return {
    pinned,
    memoryBytes,
    get memoryReason() {
      return memoryReason;
    },
    wrap(name, cmd, args) {
      const group = createMemoryGroup(`chs-bench-${process.pid}-${created.length}-${name}`, memoryBytes);
      let command = [cmd, ...args];
      if (group.dir) {
        created.push(group.dir);
        groups.set(name, group);
        // The shell moves itself into the cgroup, then becomes the server (same pid).
        command = ['sh', '-c', `echo $$ > '${join(group.dir, 'cgroup.procs')}' && exec "$0" "$@"`, ...command];
      } else {
        memoryReason = group.reason;
      }
      return { cmd: command[0], args: command.slice(1) };
    },
    /** Once every server has started (children inherit this process's CPUs, so not before). */
    pinForLoad(serverPids) {
      if (!pinned) return;
      for (const pid of serverPids) spawnSync('taskset', ['-a', '-p', '-c', '1', String(pid)], { stdio: 'ignore' });
      // The load generator (autocannon, in this process) on CPU 0, every thread of it.
      spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
    },
    peakBytes(name) {
      const group = groups.get(name);
      return group ? Number(readFileSync(join(group.dir, group.peakFile), 'utf8')) : undefined;
    },
    currentBytes(name) {
      const group = groups.get(name);
      return group ? Number(readFileSync(join(group.dir, group.currentFile), 'utf8')) : undefined;
    },
    cleanup() {
      for (const dir of created) {
        // Right after a server exits the kernel may still hold its group busy for a moment: retry for up to 1 s.
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            rmdirSync(dir);
            break;
          } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          }
        }
      }
      if (pinned) spawnSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
    },
  };
}

/** CPU time stolen by the hypervisor, as a share of all CPU time, between two calls (from /proc/stat). */
export function stealMeter() {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  };
  const start = read();
  return () => {
    const end = read();
    return end.total > start.total ? (end.steal - start.steal) / (end.total - start.total) : 0;
  };
}

/** User plus system CPU time of a process so far, in microseconds (from /proc/<pid>/stat). */
export function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
