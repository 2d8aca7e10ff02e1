import { connect } from 'node:net';

/**
 * A raw HTTP/1.1 client for hostile-traffic tests: it writes exactly the bytes it is given, as slowly as it is
 * told, to 127.0.0.1 only, and reports what came back and when the server closed the connection. Every
 * exchange is bounded by `limitMs`.
 */
export type Step = string | Buffer | { waitMs: number } | { dribble: string; everyMs: number };

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  responses: RawResponse[];
  /** When the server closed the connection, from the first byte written; undefined if it was still open at limitMs. */
  closedAfterMs: number | undefined;
  /** The connection was reset rather than closed. */
  reset: boolean;
}

export function exchange(port: number, steps: Step[], limitMs = 5_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let reset = false;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const finish = (closedAfterMs: number | undefined) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ responses: parseResponses(Buffer.concat(received)), closedAfterMs, reset });
    };
    const deadline = setTimeout(() => finish(undefined), limitMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') reset = true;
    });
    socket.on('close', () => finish(performance.now() - started));
    const run = (i: number) => {
      const step = steps[i];
      if (step === undefined || socket.destroyed) return;
      if (typeof step === 'string' || Buffer.isBuffer(step)) {
        socket.write(step, () => run(i + 1));
      } else if ('waitMs' in step) {
        timer = setTimeout(() => run(i + 1), step.waitMs);
      } else {
        let at = 0;
        const next = () => {
          if (socket.destroyed || socket.writableEnded) return;
          if (at >= step.dribble.length) return run(i + 1);
          socket.write(step.dribble[at++]!);
          timer = setTimeout(next, step.everyMs);
        };
        next();
      }
    };
    socket.once('connect', () => run(0));
  });
}

/** Keeps a connection open, sending nothing, until `close()`; resolves to whether the server closed it first. */
export function openConnection(port: number): Promise<{ closed: Promise<number>; close(): void; write(data: string): void }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ closed, close: () => socket.destroy(), write: (data) => void socket.write(data) }));
    socket.once('error', reject);
  });
}

/** The responses in a byte stream (interim 1xx ones included), each framed by its Content-Length. */
function parseResponses(bytes: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine = '', ...lines] = bytes.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    responses.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: bytes.subarray(end + 4, end + 4 + length).toString('utf8'),
    });
    at = end + 4 + length;
  }
  return responses;
}
