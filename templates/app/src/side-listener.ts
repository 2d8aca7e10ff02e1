import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connectionsPerAddress, unmapped } from './client-address.ts';
import type { Logger } from './logger.ts';
import { PipelineGate } from './pipeline.ts';

// See http-server.ts: not an ESM import of node:http.
const { createServer } = process.getBuiltinModule('node:http');

/**
 * A small listener of its own (metrics, probes), never exposed by the Service: few callers, so tight caps.
 * Whoever reaches it can hold no more than a few connections, each for no more than a few seconds, so a flood
 * can neither exhaust the process through it nor keep its legitimate callers out for long.
 */
export const SIDE_LIMITS = {
  /** Open connections in all. */
  maxConnections: 64,
  /** Open connections from one address. */
  maxConnectionsPerIp: 8,
  /** Headers, the whole request, and silence: a probe or a scrape is a single small GET. */
  timeoutMs: 2_000,
} as const;

export interface SideListener {
  port: number;
  close(): Promise<void>;
}

export async function startSideListener(
  name: string,
  port: number,
  host: string,
  logger: Logger,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<SideListener> {
  // Requests sent ahead on one connection wait behind its gate, as on the public port (src/pipeline.ts).
  const gates = new WeakMap<Socket, PipelineGate>();
  const server: Server = createServer(
    {
      headersTimeout: SIDE_LIMITS.timeoutMs,
      requestTimeout: SIDE_LIMITS.timeoutMs,
      keepAliveTimeout: SIDE_LIMITS.timeoutMs,
      connectionsCheckingInterval: 500,
    },
    (req, res) => {
      const gate = gates.get(req.socket)!;
      const run = () => {
        res.once('close', () => gate.done());
        handle(req, res);
      };
      if (!gate.admit(run)) req.socket.destroy();
    },
  );
  server.timeout = SIDE_LIMITS.timeoutMs;
  server.maxConnections = SIDE_LIMITS.maxConnections;
  server.on('timeout', (socket: Socket) => socket.destroy());
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  const admit = connectionsPerAddress(SIDE_LIMITS.maxConnectionsPerIp);
  server.on('connection', (socket: Socket) => {
    gates.set(socket, new PipelineGate(socket, SIDE_LIMITS.timeoutMs));
    if (!admit(unmapped(socket.remoteAddress ?? ''), socket)) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ [`${name}Port`]: bound }, `${name} listener started`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
