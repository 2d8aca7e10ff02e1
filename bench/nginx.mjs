// Debian's nginx as the reverse proxy in front of the service, for the tests (test/support/reverse-proxy.ts)
// and the bench (bench/proxy.mjs): one configuration, so that both measure behind the same proxy.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

/**
 * ingress-nginx's upstream keep-alive defaults (kubernetes/ingress-nginx@003f04ca4563acb5d4c262ca391dca0ea05bf711:
 * internal/ingress/controller/config/config.go, NewDefault): UpstreamKeepaliveConnections 320 idle connections
 * kept per worker, UpstreamKeepaliveRequests 10000 requests over one before nginx closes it, and
 * UpstreamKeepaliveTimeout 60 s idle.
 */
export const NGINX_POOL = 320;
export const NGINX_REQUESTS_PER_CONNECTION = 10_000;
const NGINX_POOL_IDLE_S = 60;

/**
 * nginx.conf for a proxy on 127.0.0.1:`port` in front of 127.0.0.1:`upstreamPort`, everything under `dir`.
 * With `pool`, it pools its upstream connections as ingress-nginx does (an `upstream` with its keep-alive
 * defaults, HTTP/1.1 and the Connection header cleared): each client's request may go over a connection another
 * client's request used before. With `proxyProtocol`, it learns each client's address from the PROXY
 * protocol, as ingress-nginx does behind a cloud load balancer (`use-proxy-protocol`).
 */
export function nginxConf({ dir, port, upstreamPort, pool = false, proxyProtocol = false }) {
  const temp = (name) => `${name}_temp_path ${join(dir, 'temp', name)};`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 128; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  ${pool ? `upstream app { server 127.0.0.1:${upstreamPort}; keepalive ${NGINX_POOL}; keepalive_requests ${NGINX_REQUESTS_PER_CONNECTION}; keepalive_timeout ${NGINX_POOL_IDLE_S}s; }` : ''}
  server {
    listen 127.0.0.1:${port}${proxyProtocol ? ' proxy_protocol' : ''};
    # The clients' side: a load's connections are not closed every 1,000 requests (nginx's default).
    keepalive_requests 1000000;
    ${proxyProtocol ? 'set_real_ip_from 127.0.0.1;\n    real_ip_header proxy_protocol;' : ''}
    location / {
      proxy_pass http://${pool ? 'app' : `127.0.0.1:${upstreamPort}`};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}
