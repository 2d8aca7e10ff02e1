import { setTimeout as sleep } from 'node:timers/promises';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';

export interface ShutdownOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  /** Readiness is false this long before the server stops accepting: endpoints stop sending traffic. */
  delayMs: number;
  /** Counted from the end of the delay (when draining starts); when it passes, exit 1 whatever still runs. */
  timeoutMs: number;
  /** Stops accepting and drains: resolves when every connection is closed. */
  close: () => Promise<void>;
  exit: (code: number) => void;
}

/**
 * Graceful shutdown, as Kubernetes expects it: on SIGTERM the pod is removed from endpoints
 * asynchronously, so first fail readiness and keep serving for `delayMs`, then stop accepting, finish
 * in-flight requests, close keep-alive connections and exit 0. If draining takes longer than `timeoutMs`,
 * exit 1: the whole shutdown takes at most delayMs + timeoutMs (keep the pod's grace period above that).
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
    let hardStop: NodeJS.Timeout | undefined;
    try {
      await sleep(o.delayMs);
      hardStop = setTimeout(() => {
        o.logger.error({ timeoutMs: o.timeoutMs }, 'shutdown timed out: exiting with 1');
        o.exit(1);
      }, o.timeoutMs);
      o.logger.info('no longer accepting connections; draining in-flight requests');
      await o.close();
      clearTimeout(hardStop);
      o.logger.info({ durationMs: Date.now() - startedAt }, 'shutdown complete');
      o.exit(0);
    } catch (err) {
      clearTimeout(hardStop);
      o.logger.error({ err }, 'shutdown failed: exiting with 1');
      o.exit(1);
    }
  };
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
