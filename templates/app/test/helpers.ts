import { Writable } from 'node:stream';
import { createHttpService } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { HttpService } from '../src/http-service.ts';
import { Lifecycle } from '../src/lifecycle.ts';
import { createLogger, type Logger } from '../src/logger.ts';
import { Metrics } from '../src/metrics.ts';
import { startProbeServer } from '../src/probe-server.ts';

export type LogLine = Record<string, unknown>;

/** A logger that keeps its JSON lines in memory. */
export function memoryLogger(level: Config['logLevel'] = 'debug'): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger(level, destination), lines, raw };
}

export interface RunningService {
  url: string;
  config: Config;
  lifecycle: Lifecycle;
  metrics: Metrics;
  logger: Logger;
  logs: LogLine[];
  rawLogs: string[];
  service: HttpService;
  /** The probe listener's URL, when `env` sets PROBE_PORT. */
  probeUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the real application on a free loopback port, configured from `env` as the process would be; `extra`:
 * more of what createHttpService takes (a rate-limit store, a database).
 */
export async function startService(
  env: Record<string, string> = {},
  extra: Partial<Parameters<typeof createHttpService>[0]> = {},
): Promise<RunningService> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...env });
  const { logger, lines, raw } = memoryLogger();
  const lifecycle = new Lifecycle();
  const metrics = new Metrics(lifecycle);
  const service = createHttpService({ config, logger, lifecycle, metrics, ...extra });
  const probes = config.probePort === undefined ? undefined : await startProbeServer(service.readiness, config.probePort, config.host, logger);
  const port = await service.listen(config.port, config.host);
  lifecycle.markReady();
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    lifecycle,
    metrics,
    logger,
    logs: lines,
    rawLogs: raw,
    service,
    probeUrl: probes && `http://127.0.0.1:${probes.port}`,
    async close() {
      if (!closed) await Promise.all([service.close(), probes?.close()]);
      closed = true;
    },
  };
}

/** Waits until `predicate` holds, polling; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
