import { setTimeout as sleep } from 'node:timers/promises';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';

export interface ShutdownOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  /** Readiness is false this long before the server stops accepting: endpoints stop sending traffic. */
  delayMs: number;
  /** Counted from the end of the delay (when draining starts): the drain deadline. */
  timeoutMs: number;
  /** Stops accepting and drains: resolves when every connection is closed. */
  close: () => Promise<void>;
  /** At the deadline: closes every connection still open; resolves to the ids of requests cut short. */
  closeAll: () => Promise<string[]>;
  exit: (code: number) => void;
}

/** After closeAll(), how long the closing connections may take to go before the process exits anyway. */
const CLOSE_ALL_GRACE_MS = 1_000;

/**
 * Graceful shutdown, as Kubernetes expects it: on SIGTERM the pod is removed from endpoints
 * asynchronously, so first fail readiness and keep serving for `delayMs`, then stop accepting, finish
 * in-flight requests, close keep-alive connections and exit 0. At the drain deadline (`timeoutMs` later) the
 * connections still open are closed: exit 0 if none of them had a request under way (idle, or still sending
 * headers), else exit 1 with the ids of the requests cut short. The whole shutdown takes at most
 * delayMs + timeoutMs + 1 s: keep the pod's grace period above that.
 * Returns the function to call with the reason (a signal name); calling it again does nothing.
 */
export function createShutdown(o: ShutdownOptions): (reason: string) => Promise<void> {
  let started = false;
  return async (reason) => {
    if (started) {
      o.logger.info({ reason }, 'shutdown already in progress');
      return;
    }
    started = true;
    const startedAt = Date.now();
    o.lifecycle.beginShutdown();
    o.logger.info({ reason, delayMs: o.delayMs, timeoutMs: o.timeoutMs }, 'shutting down: readiness is now false');
    try {
      await sleep(o.delayMs);
      o.logger.info('no longer accepting connections; draining in-flight requests');
      const closed = o.close();
      if ((await within(closed, o.timeoutMs)) === 'timeout') {
        let cut: string[] = [];
        const closedAll = Promise.all([o.closeAll().then((ids) => void (cut = ids)), closed]).then(() => undefined);
        if ((await within(closedAll, CLOSE_ALL_GRACE_MS)) === 'timeout') {
          o.logger.error({ timeoutMs: o.timeoutMs }, 'shutdown timed out: connections did not close: exiting with 1');
          o.exit(1);
          return;
        }
        if (cut.length > 0) {
          o.logger.error({ timeoutMs: o.timeoutMs, cut }, 'drain deadline passed: requests cut short: exiting with 1');
          o.exit(1);
          return;
        }
        o.logger.info({ timeoutMs: o.timeoutMs }, 'drain deadline passed: closed idle connections, no request was cut');
      }
      o.logger.info({ durationMs: Date.now() - startedAt }, 'shutdown complete');
      o.exit(0);
    } catch (err) {
      o.logger.error({ err }, 'shutdown failed: exiting with 1');
      o.exit(1);
    }
  };
}

/** Waits for `promise` at most `ms`; 'timeout' if it has not settled by then. */
async function within(promise: Promise<void>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Node is PID 1 in the container (no init): without handlers it would ignore SIGTERM and be killed after
 * the grace period. SIGTERM and SIGINT start a graceful shutdown (a second SIGINT exits at once, for Ctrl-C
 * at a terminal). A crash (an exception or a rejected promise nobody handled) is logged and exits 1: the
 * process state is unknown, and Kubernetes restarts the container.
 */
export function handleProcessEvents(shutdown: (reason: string) => Promise<void>, logger: Logger, exit: (code: number) => void): void {
  let interrupts = 0;
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) {
      logger.warn('second SIGINT: exiting now');
      exit(1);
      return;
    }
    void shutdown('SIGINT');
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection: exiting with 1');
    exit(1);
  });
  process.on('uncaughtException', (err, origin) => {
    logger.fatal({ err, origin }, 'uncaught exception: exiting with 1');
    exit(1);
  });
}
