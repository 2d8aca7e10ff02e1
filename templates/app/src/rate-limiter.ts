/**
 * Fixed-window rate limiting per client, with a store bounded in memory: at most `maxClients` windows are
 * kept, and the least recently seen client is forgotten first (a Map iterates in insertion order, and every
 * hit re-inserts its key). A forgotten client simply starts a new window. Keys are short (an IPv4 address or
 * an IPv6 /56, see client-address.ts), so memory at the cap is bounded too: under 400 bytes of heap per client
 * (test/rate-limiter.test.ts; measured 210 on Node 26, 320 on Node 22 and 24), at most 4 MiB at the default cap
 * of 10,000 clients.
 */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
  maxClients: number;
}

export interface Window {
  /** Requests counted in this window, the current one included. */
  count: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
}

/** What the HTTP server counts requests with: this in-memory store, or one shared by every replica (Redis). */
export interface RateLimitStore {
  readonly max: number;
  readonly windowMs: number;
  /**
   * Counts one request of `key`; the request is over the limit when the returned count exceeds `max`. A shared
   * store may answer later (a promise, which always resolves, within its own timeout); this one answers at once.
   */
  hit(key: string, now?: number): Window | Promise<Window>;
  /** Clients held in this process, and how many were forgotten to stay within maxClients (metrics). */
  readonly clients: number;
  readonly evictions: number;
}

export class RateLimiter implements RateLimitStore {
  readonly max: number;
  readonly windowMs: number;
  readonly maxClients: number;
  readonly #windows = new Map<string, Window>();
  #evictions = 0;

  constructor(options: RateLimitOptions) {
    this.max = options.max;
    this.windowMs = options.windowMs;
    this.maxClients = options.maxClients;
  }

  /** Counts one request of `key`; the request is over the limit when the returned count exceeds `max`. */
  hit(key: string, now = Date.now()): Window {
    let window = this.#windows.get(key);
    if (window === undefined) {
      window = { count: 0, resetAt: now + this.windowMs };
      if (this.#windows.size >= this.maxClients) {
        const oldest = this.#windows.keys().next().value;
        if (oldest !== undefined) this.#windows.delete(oldest);
        this.#evictions += 1;
      }
    } else {
      this.#windows.delete(key);
      if (now >= window.resetAt) {
        window.count = 0;
        window.resetAt = now + this.windowMs;
      }
    }
    window.count += 1;
    this.#windows.set(key, window);
    return window;
  }

  /** Clients in the store (at most maxClients). */
  get clients(): number {
    return this.#windows.size;
  }

  /** Clients forgotten to keep the store within maxClients, since start. */
  get evictions(): number {
    return this.#evictions;
  }
}
