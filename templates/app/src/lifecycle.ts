/**
 * Where the process is in its life: `starting` until the server listens, `ready` while it takes traffic,
 * `draining` from the shutdown signal on. /readyz answers 200 only when `ready`.
 */
export type Phase = 'starting' | 'ready' | 'draining';

export class Lifecycle {
  #phase: Phase = 'starting';

  get phase(): Phase {
    return this.#phase;
  }

  get ready(): boolean {
    return this.#phase === 'ready';
  }

  get shuttingDown(): boolean {
    return this.#phase === 'draining';
  }

  markReady(): void {
    if (this.#phase === 'starting') this.#phase = 'ready';
  }

  beginShutdown(): void {
    this.#phase = 'draining';
  }
}
