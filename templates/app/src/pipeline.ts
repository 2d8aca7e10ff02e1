import type { Socket } from 'node:net';

/**
 * Backpressure for one connection's requests. HTTP/1.1 lets a client send requests without waiting for the
 * answers (pipelining); Node parses all it receives and runs each one, so a client that sends and never reads
 * makes the process hold every answer. Here at most PIPELINE_DEPTH requests of a connection run at a time, and
 * none while unread answers fill the socket's buffer (16 KiB); meanwhile the connection is not read, and a
 * client that reads nothing for IDLE_TIMEOUT_MS is disconnected.
 *
 * Node's parser takes each read whole (up to 64 KiB: about 1,800 small requests, built before anyone can stop
 * it). So once a client pipelines (sends a request before the previous answer is out, which proxies and
 * browsers do not do), every open connection, and every new one for SLICING_WINDOW_MS, is read through the
 * socket's stream and handed to the parser PARSE_SLICE bytes at a time, none while requests wait: a client that
 * sends ahead is not read (TCP holds the rest) until its answers are taken, and at most PIPELINE_QUEUE of its
 * requests wait (more than a slice holds; beyond that it is disconnected). Until then connections keep Node's
 * native path, a few µs of CPU per request cheaper, so an attack gets one read parsed whole (the one that shows
 * the pipelining) before every connection is sliced; what that read held waits too. Whatever the connections,
 * a request that would wait while PROCESS_QUEUE already do closes its connection instead.
 */
export const PIPELINE_DEPTH = 16;
export const PIPELINE_QUEUE = 128;
export const PARSE_SLICE = 2 * 1024;
export const PROCESS_QUEUE = 8 * 1024;
export const SLICING_WINDOW_MS = 60_000;

let waitingInProcess = 0;
/** The open connections' gates: pipelining on one moves them all to slices. */
const gates = new Set<PipelineGate>();
/** New connections are read in slices from the start until then (pipelining was seen shortly before). */
let slicingUntil = 0;

export class PipelineGate {
  readonly #socket: Socket;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #stopped = false;
  /** How the parser is fed: Node's native path, the slicer once the read being parsed is done, the slicer. */
  #feed: 'native' | 'pending' | 'sliced' = 'native';

  readonly #idleTimeoutMs: number;

  constructor(socket: Socket, idleTimeoutMs: number) {
    this.#socket = socket;
    this.#idleTimeoutMs = idleTimeoutMs;
    socket.on('drain', () => this.#next());
    gates.add(this);
    if (Date.now() < slicingUntil) this.#feedInSlices();
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
      gates.delete(this);
      waitingInProcess -= this.#waiting.length;
      this.#waiting.length = 0;
    });
  }

  #feedInSlices(): void {
    if (this.#feed === 'native') this.#attachSlicer();
  }

  /**
   * The HTTP server's data listeners get each read in slices, none while the connection is held: what is not
   * handed on goes back to the head of the socket's buffer (read again on resume). Adding a 'data' listener
   * also makes Node's HTTP server read the socket through its stream, where pause() stops it.
   */
  #attachSlicer(): void {
    this.#feed = 'sliced';
    const socket = this.#socket;
    if (socket.destroyed) return;
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

  /** Whether this connection is (or is about to be) read in slices: for tests and diagnostics. */
  get sliced(): boolean {
    return this.#feed !== 'native';
  }

  /** Runs `task` now or once earlier answers are out; false when the client is too far ahead (close the connection). */
  admit(task: () => void): boolean {
    if (this.#feed === 'native' && (this.#running > 0 || this.#waiting.length > 0)) this.#pipeliningSeen();
    if (this.#waiting.length === 0 && this.#running < PIPELINE_DEPTH && !this.#socket.writableNeedDrain) {
      this.#running++;
      task();
      return true;
    }
    // The read that showed pipelining was parsed whole: what it held waits, within the process's bound.
    const perConnection = this.#feed === 'sliced' ? PIPELINE_QUEUE : Infinity;
    if (this.#waiting.length >= perConnection || waitingInProcess >= PROCESS_QUEUE) return false;
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

  /** Called while Node parses this connection's read: it is switched once that read is parsed. */
  #pipeliningSeen(): void {
    slicingUntil = Date.now() + SLICING_WINDOW_MS;
    for (const gate of gates) if (gate !== this) gate.#feedInSlices();
    this.#feed = 'pending';
    setImmediate(() => this.#attachSlicer());
  }

  #stopReading(): void {
    this.#stopped = true;
    // Node may have set the longer keep-alive timeout: a client that reads none of its answers is idle.
    this.#socket.setTimeout(this.#idleTimeoutMs);
    this.#socket.pause();
  }
}
