import type { Socket } from 'node:net';

/**
 * Backpressure for one connection's requests. HTTP/1.1 lets a client send requests without waiting for the
 * answers (pipelining); Node parses all it receives and runs each one, so a client that sends and never reads
 * makes the process hold every answer. Here at most PIPELINE_DEPTH requests of a connection run at a time, and
 * none while unread answers fill the socket's buffer (16 KiB); meanwhile the connection is not read, and a
 * client that reads nothing for IDLE_TIMEOUT_MS is disconnected. What was already read when reading stopped
 * waits, up to PIPELINE_QUEUE requests: Node parses a whole chunk (up to 64 KiB, thousands of small requests)
 * before it can be told to stop, so a client further ahead than that is disconnected, and the requests it sent
 * beyond it are never run. A connection thus holds at most PIPELINE_DEPTH running requests, PIPELINE_QUEUE
 * waiting ones and 16 KiB of unread answers.
 */
export const PIPELINE_DEPTH = 16;
export const PIPELINE_QUEUE = 256;

/** The socket's libuv handle: `socket.pause()` does not stop Node's HTTP parser, which reads from it directly. */
interface StreamHandle {
  readStart?(): number;
  readStop?(): number;
}

export class PipelineGate {
  readonly #socket: Socket;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #stopped = false;

  readonly #idleTimeoutMs: number;

  constructor(socket: Socket, idleTimeoutMs: number) {
    this.#socket = socket;
    this.#idleTimeoutMs = idleTimeoutMs;
    socket.on('drain', () => this.#next());
    // When a connection closes, Node aborts each request still pending on it with an error whose stack it
    // formats: for thousands of pipelined requests, seconds of work. Those errors reach no one: built without
    // frames (this listener runs before Node's, the one below after it).
    let stackTraceLimit: number | undefined;
    socket.prependListener('close', () => {
      if (this.#waiting.length === 0) return;
      stackTraceLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
    });
    socket.once('close', () => {
      if (stackTraceLimit !== undefined) Error.stackTraceLimit = stackTraceLimit;
      this.#waiting.length = 0;
    });
  }

  /** Runs `task` now or once earlier answers are out; false when the client is too far ahead (close the connection). */
  admit(task: () => void): boolean {
    if (this.#waiting.length === 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain) {
      this.#running++;
      task();
      return true;
    }
    if (this.#waiting.length >= PIPELINE_QUEUE) return false;
    this.#waiting.push(task);
    this.#stopReading();
    return true;
  }

  /** A request admitted by admit() has ended (answered, or cut). */
  done(): void {
    this.#running--;
    this.#next();
  }

  #next(): void {
    while (this.#waiting.length > 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain && !this.#socket.destroyed) {
      this.#running++;
      this.#waiting.shift()!();
    }
    if (this.#stopped && this.#waiting.length === 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain) {
      this.#stopped = false;
      const handle = this.#handle();
      if (handle && !this.#socket.destroyed) handle.readStart?.();
    }
  }

  #stopReading(): void {
    // Again each time: Node may have restarted reading for its own reasons.
    this.#stopped = true;
    // Node may have set the longer keep-alive timeout: a client that reads none of its answers is idle.
    this.#socket.setTimeout(this.#idleTimeoutMs);
    const handle = this.#handle();
    // `reading` stays true: were it false, Node would start reading again the next time it resumes the socket.
    handle?.readStop?.();
  }

  #handle(): StreamHandle | undefined {
    return (this.#socket as unknown as { _handle?: StreamHandle | null })._handle ?? undefined;
  }
}
