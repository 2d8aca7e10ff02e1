// Types of nginx.mjs, for the tests that reuse it (test/support/reverse-proxy.ts).
export const nginxBinary: string | undefined;
export const NGINX_POOL: number;
export const NGINX_REQUESTS_PER_CONNECTION: number;
export function nginxConf(options: { dir: string; port: number; upstreamPort: number; pool?: boolean; proxyProtocol?: boolean }): string;
