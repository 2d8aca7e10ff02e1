import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMetricsServer, type MetricsServer } from '../src/metrics.ts';
import { startService, type RunningService } from './helpers.ts';

describe('metrics', () => {
  let svc: RunningService;
  let metricsServer: MetricsServer;
  before(async () => {
    svc = await startService();
    metricsServer = await startMetricsServer(svc.metrics, 0, '127.0.0.1', svc.logger);
  });
  after(async () => {
    await metricsServer.close();
    await svc.close();
  });

  it('serves Prometheus text on its own port, counting requests', async () => {
    await fetch(`${svc.url}/hello`);
    await fetch(`${svc.url}/nope`);
    const res = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^http_requests_total\{method="GET",status="200"\} \d+$/m);
    assert.match(text, /^http_requests_total\{method="GET",status="404"\} 1$/m);
    assert.match(text, /^http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    assert.match(text, /^service_ready 1$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
  });

  it('is not served on the application port', async () => {
    assert.equal((await fetch(`${svc.url}/metrics`)).status, 404);
  });
});
