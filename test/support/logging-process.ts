import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Processes the end-to-end tests start whose stdout is JSON log lines (the service, the migrations Job). */
const children = new Set<ChildProcess>();

export interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  raw: string[];
  exited: Promise<number | null>;
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts a process whose stdout is JSON log lines; every wait on it is bounded. */
export function startLogging(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Running {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    raw.push(line);
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ unparsed: line });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => raw.push(`stderr: ${line}`));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ? null : code);
    }),
  );
  return {
    child,
    lines,
    raw,
    exited,
    async waitForLog(msg, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => l.msg === msg);
        if (line) return line;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no "${msg}" log line (exit ${child.exitCode}):\n${raw.join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Exit code within a bound, or null after killing the process. */
export async function exitWithin(running: Running, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const result = await Promise.race([running.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') running.child.kill('SIGKILL');
  return result;
}

/** The pid of the process bwrap runs (its only child), so that the signal goes to Node, not to bwrap. */
export function sandboxedPid(bwrapPid: number): number {
  const children = readFileSync(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8').trim().split(/\s+/);
  if (children.length !== 1 || !children[0]) throw new Error(`bwrap ${bwrapPid} has children "${children.join(' ')}"`);
  return Number(children[0]);
}

/** Kills every process started here that is still running (a test's afterAll). */
export function killStarted(): void {
  for (const child of children) child.kill('SIGKILL');
}
