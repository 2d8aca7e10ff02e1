// Types of isolation.mjs, for the tests that reuse it (test/app-service.e2e.test.ts).
export interface Isolation {
  pinned: boolean;
  memoryBytes: number;
  readonly memoryReason: string | undefined;
  wrap(name: string, cmd: string, args: string[]): { cmd: string; args: string[] };
  pinForLoad(serverPids: number[]): void;
  peakBytes(name: string): number | undefined;
  currentBytes(name: string): number | undefined;
  cleanup(): void;
}
export function createIsolation(options: { memoryBytes: number }): Isolation;
export function stealMeter(): () => number;
export function cpuMicros(pid: number): number;
