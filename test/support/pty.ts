import { type ChildProcess, spawn } from 'node:child_process';
import { cliPath } from './cli.js';

/**
 * Runs the CLI in a real pseudo-terminal (util-linux `script`), so the real prompts render and read keys
 * exactly as they do for a person. `answer` waits for a prompt's text, then types.
 */
export function runCliInTerminal(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', COLUMNS: '200' };
  delete env.CI;
  const command = ['node', cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child: ChildProcess = spawn('script', ['-qefc', command, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));

  async function waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!pattern.test(screen)) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${pattern}; screen so far:\n${screen}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return {
    /** Waits for `prompt`, then sends `keys` (Ctrl-U clears a prefilled default; \r is Enter). */
    async answer(prompt: RegExp, keys: string): Promise<void> {
      await waitFor(prompt);
      screen = screen.slice(screen.search(prompt));
      child.stdin!.write(keys);
    },
    waitFor,
    screen: () => screen,
    exited,
  };
}

export const keys = { enter: '\r', down: '\x1b[B', clearLine: '\x15', ctrlC: '\x03' } as const;
