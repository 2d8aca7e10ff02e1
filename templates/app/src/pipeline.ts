import type { Socket } from 'node:net';

/**
 * Backpressure for one connection's requests. HTTP/1.1 lets a client send requests without waiting for the
 * answers (pipelining); Node parses all it receives and runs each one, so a client that sends and never reads
 * makes the process hold every answer. Here at most PIPELINE_DEPTH requests of a connection run at a time, and
 * none while unread answers fill the socket's buffer (16 KiB); meanwhile the connection is not read, and a
 * client that reads nothing for IDLE_TIMEOUT_MS is disconnected. Node's parser takes each read whole (up to
 * 64 KiB, thousands of small requests, built before anyone can stop it), so it is handed PARSE_SLICE bytes at a
 * time and no more while requests wait: a client that sends ahead is not read (TCP holds the rest) until its
 * answers are taken. Those already parsed wait, up to PIPELINE_QUEUE (more than a slice can hold); a client
 * beyond that is disconnected, and so is one that would queue while the whole process has PROCESS_QUEUE
 * requests waiting.
 */
export const PIPELINE_DEPTH = 16;
export const PIPELINE_QUEUE = 128;
export const PARSE_SLICE = 2 * 1024;
export const PROCESS_QUEUE = 8 * 1024;

let waitingInProcess = 0;

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
    this.#feedInSlices();
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
      waitingInProcess -= this.#waiting.length;
      this.#waiting.length = 0;
    });
  }

  /**
   * The HTTP server's data listeners get each read in slices, none while the connection is held: what is not
   * handed on goes back to the head of the socket's buffer (read again on resume). Adding a 'data' listener
   * also makes Node's HTTP server read the socket through its stream, where pause() stops it.
   */
  #feedInSlices(): void {
    const socket = this.#socket;
    const parsers = socket.listeners('data') as ((chunk: Buffer) => void)[];
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      for (let offset = 0; offset < chunk.length; offset += PARSE_SLICE) {
        if (socket.destroyed) return;
        // Node's HTTP server resumes the socket once its answers drain: the gate may still be holding it.
        if (socket.isPaused() || this.#stopped) {
          socket.pause();
          socket.unshift(chunk.subarray(offset));
          return;
        }
        const slice = chunk.subarray(offset, offset + PARSE_SLICE);
        for (const parse of parsers) parse.call(socket, slice);
      }
    });
  }

  /** Runs `task` now or once earlier answers are out; false when the client is too far ahead (close the connection). */
  admit(task: () => void): boolean {
    if (this.#waiting.length === 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain) {
      this.#running++;
      task();
      return true;
    }
    if (this.#waiting.length >= PIPELINE_QUEUE || waitingInProcess >= PROCESS_QUEUE) return false;
    this.#waiting.push(task);
    waitingInProcess++;
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
      waitingInProcess--;
      this.#waiting.shift()!();
    }
    if (this.#stopped && this.#waiting.length === 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain) {
      this.#stopped = false;
      if (!this.#socket.destroyed) this.#socket.resume();
    }
  }

  #stopReading(): void {
    this.#stopped = true;
    // Node may have set the longer keep-alive timeout: a client that reads none of its answers is idle.
    this.#socket.setTimeout(this.#idleTimeoutMs);
    this.#socket.pause();
  }
}
