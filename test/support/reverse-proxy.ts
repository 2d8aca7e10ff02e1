import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxBinary, nginxConf } from '../../bench/nginx.mjs';

/**
 * A real reverse proxy in front of the service, as the Ingress puts one: Debian's nginx (`nginx-light`, which
 * .ci/run installs), on 127.0.0.1 only. It learns each client's address from the PROXY protocol, as
 * ingress-nginx does behind a cloud load balancer (`use-proxy-protocol`), so that the tests can be many
 * clients while every connection stays on loopback; it appends that address to X-Forwarded-For.
 *
 * Fails (never skips) when nginx is missing, saying how to get it.
 */
export function requireNginx(): string {
  if (!nginxBinary) throw new Error('nginx is missing: apt-get install -y nginx-light (.ci/run does)');
  return nginxBinary;
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket.destroy() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx not accepting on ${port} within ${timeoutMs} ms`);
  }
}

export interface ReverseProxy {
  port: number;
  stop(): Promise<void>;
}

/** Starts a proxy whose configuration is in `dir`, once it accepts on `port`; `stop` ends it and removes `dir`. */
async function runProxy(binary: string, args: string[], port: number, dir: string): Promise<ReverseProxy> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await accepting(port, 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** nginx (bench/nginx.mjs), with the PROXY protocol from the clients and, with `pool`, its upstream connections pooled. */
export async function startNginx(upstreamPort: number, { pool = false } = {}): Promise<ReverseProxy> {
  const nginx = requireNginx();
  const dir = await mkdtemp(join(tmpdir(), 'chs-nginx-'));
  await mkdir(join(dir, 'temp'));
  const port = await freePort();
  await writeFile(join(dir, 'nginx.conf'), nginxConf({ dir, port, upstreamPort, pool, proxyProtocol: true }));
  return runProxy(nginx, ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], port, dir);
}

export const haproxyBinary = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));

/**
 * HAProxy (Debian's, which .ci/run installs) in front of the service: a second, independent pooling proxy
 * (`http-reuse always`: any client's request may go over any idle server connection). Like nginx above, it
 * learns each client's address from the PROXY protocol and appends it to X-Forwarded-For.
 */
export async function startHaproxy(upstreamPort: number): Promise<ReverseProxy> {
  if (!haproxyBinary) throw new Error('haproxy is missing: apt-get install -y haproxy (.ci/run does)');
  const dir = await mkdtemp(join(tmpdir(), 'chs-haproxy-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'haproxy.cfg'),
    `global
  maxconn 512
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
frontend public
  bind 127.0.0.1:${port} accept-proxy
  option forwardfor
  default_backend app
backend app
  http-reuse always
  server app 127.0.0.1:${upstreamPort}
`,
  );
  return runProxy(haproxyBinary, ['-db', '-f', join(dir, 'haproxy.cfg')], port, dir);
}

/**
 * One request of any method, with an optional body, through the proxy as the client `clientIp`, IPv4 or IPv6
 * (given in the PROXY protocol header: the bytes go to 127.0.0.1). Resolves to the status and the request id of
 * the answer.
 */
export function sendAs(
  proxyPort: number,
  clientIp: string,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; reqId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from the proxy for ${request.path} within 20 s`)), 20_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', reject);
    socket.once('close', () => {
      clearTimeout(timer);
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[0] ?? '';
      resolve({ status: Number(head.split(' ')[1]), reqId: /^x-request-id: *(\S+)$/im.exec(head)?.[1] });
    });
    const headers = { ...request.headers, ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }) };
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    const family = clientIp.includes(':') ? 'TCP6' : 'TCP4';
    const local = family === 'TCP6' ? '::1' : '127.0.0.1';
    socket.write(`PROXY ${family} ${clientIp} ${local} 40000 ${proxyPort}\r\n${request.method} ${request.path} HTTP/1.1\r\nHost: svc.example\r\nConnection: close\r\n${extra}\r\n${request.body ?? ''}`);
  });
}

/** A GET through the proxy as the client `clientIp` (sendAs). */
export function requestAs(
  proxyPort: number,
  clientIp: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; reqId: string | undefined }> {
  return sendAs(proxyPort, clientIp, { method: 'GET', path, headers });
}
