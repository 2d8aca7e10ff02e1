import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { type SideListener, startSideListener } from './side-listener.ts';

const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Prometheus metrics without a client library: request counts by method and status, a request duration
 * histogram, readiness, and the process basics. Labels are bounded (no paths) so that scanners hitting
 * random URLs cannot blow up the series count.
 */
export class Metrics {
  readonly #lifecycle: Lifecycle;
  readonly #requests = new Map<string, number>();
  readonly #bucketCounts = DURATION_BUCKETS_SECONDS.map(() => 0);
  #durationSum = 0;
  #durationCount = 0;
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 });
  /** The rate limiter's store, once the HTTP server has one: its size is bounded, and shown here. */
  rateLimitStore: { clients: number; evictions: number } | undefined;

  constructor(lifecycle: Lifecycle) {
    this.#lifecycle = lifecycle;
  }

  observeRequest(method: string, status: number, durationMs: number): void {
    const key = `${KNOWN_METHODS.has(method) ? method : 'OTHER'} ${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const seconds = durationMs / 1000;
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      if (seconds <= le) this.#bucketCounts[i] = (this.#bucketCounts[i] ?? 0) + 1;
    });
    this.#durationSum += seconds;
    this.#durationCount += 1;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: string[]) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);

    metric(
      'http_requests_total',
      'counter',
      'HTTP requests answered, by method and status code.',
      [...this.#requests].map(([key, n]) => {
        const [method, status] = key.split(' ');
        return `http_requests_total{method="${method}",status="${status}"} ${n}`;
      }),
    );
    metric('http_request_duration_seconds', 'histogram', 'Time from request to response.', [
      ...DURATION_BUCKETS_SECONDS.map((le, i) => `http_request_duration_seconds_bucket{le="${le}"} ${this.#bucketCounts[i]}`),
      `http_request_duration_seconds_bucket{le="+Inf"} ${this.#durationCount}`,
      `http_request_duration_seconds_sum ${this.#durationSum}`,
      `http_request_duration_seconds_count ${this.#durationCount}`,
    ]);
    metric('service_ready', 'gauge', '1 while the service takes traffic (/readyz answers 200).', [
      `service_ready ${this.#lifecycle.ready ? 1 : 0}`,
    ]);
    if (this.rateLimitStore) {
      metric('rate_limit_clients', 'gauge', 'Clients the rate limiter holds (at most RATE_LIMIT_MAX_CLIENTS).', [
        `rate_limit_clients ${this.rateLimitStore.clients}`,
      ]);
      metric('rate_limit_evictions_total', 'counter', 'Clients forgotten to keep the store within RATE_LIMIT_MAX_CLIENTS.', [
        `rate_limit_evictions_total ${this.rateLimitStore.evictions}`,
      ]);
    }
    const cpu = process.cpuUsage();
    metric('process_cpu_seconds_total', 'counter', 'User and system CPU time spent.', [
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    ]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size.', [
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ]);
    metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [`nodejs_heap_used_bytes ${process.memoryUsage().heapUsed}`]);
    metric('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch.', [
      `process_start_time_seconds ${Math.round(Date.now() / 1000 - process.uptime())}`,
    ]);
    metric('nodejs_eventloop_lag_p99_seconds', 'gauge', '99th percentile event loop delay since start.', [
      `nodejs_eventloop_lag_p99_seconds ${this.#loopDelay.percentile(99) / 1e9}`,
    ]);
    return `${lines.join('\n')}\n`;
  }

  startEventLoopMonitor(): void {
    this.#loopDelay.enable();
  }

  stopEventLoopMonitor(): void {
    this.#loopDelay.disable();
  }
}

export type MetricsServer = SideListener;

/**
 * Serves GET /metrics on its own port, so that it is never reachable through the public Service/Ingress; capped
 * as every side listener is (side-listener.ts).
 */
export async function startMetricsServer(metrics: Metrics, port: number, host: string, logger: Logger): Promise<MetricsServer> {
  const listener = await startSideListener('metrics', port, host, logger, (req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  metrics.startEventLoopMonitor();
  return {
    port: listener.port,
    close: async () => {
      metrics.stopEventLoopMonitor();
      await listener.close();
    },
  };
}
