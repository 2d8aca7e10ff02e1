import type { ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';
import type { Readiness } from './http-service.ts';
import { type SideListener, startSideListener } from './side-listener.ts';

/**
 * /healthz and /readyz on their own port (PROBE_PORT), for the kubelet and the image's HEALTHCHECK. The public
 * port's caps (MAX_CONNECTIONS, the per-address cap, the rate limit) are what a flood fills; probes that shared
 * them would fail, and the kubelet would restart a pod that is only busy. This port is not in the Service, and
 * the NetworkPolicy admits nobody to it: the kubelet still reaches it, because a NetworkPolicy cannot block
 * traffic from the pod's own node (kubernetes/website: concepts/services-networking/network-policies.md,
 * "What you can't do with network policies"). Every answer closes its connection: the kubelet opens one per
 * probe, and no idle connection holds one of this listener's few slots.
 */
export async function startProbeServer(readiness: Readiness, port: number, host: string, logger: Logger): Promise<SideListener> {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.shouldKeepAlive = false;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
  };
  return startSideListener('probe', port, host, logger, (req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed', message: 'method not allowed' });
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path !== '/readyz') return send(res, 404, { error: 'not_found', message: 'no such route' });
    Promise.resolve(readiness()).then(
      ({ status, body }) => send(res, status, body),
      (err: unknown) => {
        logger.error({ err }, 'readiness check failed');
        send(res, 503, { status: 'unavailable' });
      },
    );
  });
}
