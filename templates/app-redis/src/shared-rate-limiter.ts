import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SecretFile, verifiedTls } from './backing-config.ts';
import type { Logger } from './logger.ts';
import type { RateLimitOptions, RateLimitStore, Window } from './rate-limiter.ts';
import { REDIS_PASSWORD_FILE, type RedisConfig } from './redis-config.ts';

/** Counts sent to Redis and not yet answered, at most: beyond this, requests are counted locally only. */
const MAX_IN_FLIGHT = 1_024;

interface ClientWindow {
  /** Start of the window (ms since the epoch): windows are aligned, so every replica counts the same window. */
  start: number;
  /** The shared count Redis last answered for this window (every replica's requests). */
  shared: number;
  /** This process's requests Redis never counted (it failed or was too slow): counted here instead. */
  local: number;
}

/**
 * The rate limiter's counts in Redis, shared by every replica and kept across restarts: one key per client and
 * window (`<prefix><window start>:<client>`), INCR then PEXPIRE NX in one MULTI, so a key lives one window.
 *
 * Each request is counted in Redis before it is answered: INCR is atomic, so its answer is the request's place in
 * the window among every replica's requests, and a client gets at most RATE_LIMIT_MAX requests per window however
 * many replicas a burst reaches. The request waits for that answer at most REDIS_COMMAND_TIMEOUT_MS (one round
 * trip, usually under a millisecond in the cluster).
 *
 * When Redis is unreachable, slower than that, or refuses a command, the request is counted here instead, at once:
 * the service fails open to the per-pod limit (each replica enforces RATE_LIMIT_MAX alone, as with the memory
 * store), never to no limit, and logs once when that starts and once when Redis is back.
 */
export class SharedRateLimiter implements RateLimitStore {
  readonly max: number;
  readonly windowMs: number;
  readonly maxClients: number;
  readonly #config: RedisConfig;
  readonly #logger: Logger;
  readonly #password: SecretFile | undefined;
  readonly #windows = new Map<string, ClientWindow>();
  #redis: Redis;
  #inFlight = 0;
  #evictions = 0;
  #failing = false;
  #connected = false;

  constructor(limits: RateLimitOptions, config: RedisConfig, secretsDir: string, logger: Logger) {
    this.max = limits.max;
    this.windowMs = limits.windowMs;
    this.maxClients = limits.maxClients;
    this.#config = config;
    this.#logger = logger;
    this.#password = passwordFile(config, secretsDir, logger, (password) => this.#reconnect(password));
    this.#redis = this.#connect(this.#password?.value);
  }

  hit(key: string, now = Date.now()): Window | Promise<Window> {
    const start = now - (now % this.windowMs);
    let window = this.#windows.get(key);
    if (window === undefined || window.start !== start) {
      window = { start, shared: 0, local: 0 };
      if (!this.#windows.has(key) && this.#windows.size >= this.maxClients) {
        const oldest = this.#windows.keys().next().value;
        if (oldest !== undefined) this.#windows.delete(oldest);
        this.#evictions += 1;
      }
    }
    // Least recently seen first: re-insert on every hit.
    this.#windows.delete(key);
    this.#windows.set(key, window);
    if (this.#redis.status === 'ready' && this.#inFlight < MAX_IN_FLIGHT) return this.#share(key, window);
    return this.#countHere(window);
  }

  /** Fail-open: the last count Redis gave for the client, plus this process's requests Redis did not count. */
  #countHere(window: ClientWindow): Window {
    window.local += 1;
    return { count: window.shared + window.local, resetAt: window.start + this.windowMs };
  }

  async #share(key: string, window: ClientWindow): Promise<Window> {
    const redisKey = `${this.#config.keyPrefix}${window.start}:${key}`;
    this.#inFlight += 1;
    try {
      // ioredis fails each command after REDIS_COMMAND_TIMEOUT_MS: the wait is bounded.
      const results = await this.#redis.multi().incr(redisKey).pexpire(redisKey, this.windowMs, 'NX').exec();
      const [error, count] = results?.[0] ?? [new Error('transaction discarded')];
      if (error) throw error;
      window.shared = Math.max(window.shared, Number(count));
      this.#recovered();
      return { count: Number(count) + window.local, resetAt: window.start + this.windowMs };
    } catch (err) {
      this.#failed(err);
      return this.#countHere(window);
    } finally {
      this.#inFlight -= 1;
    }
  }

  #failed(err: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#logger.error(
      { err: { message: (err as Error).message }, host: this.#config.host, port: this.#config.port },
      'rate-limit store unavailable: counting per pod until Redis answers again',
    );
  }

  #recovered(): void {
    if (!this.#connected) {
      this.#connected = true;
      this.#logger.info({ host: this.#config.host, port: this.#config.port }, 'rate-limit store connected: counts are shared');
    }
    if (!this.#failing) return;
    this.#failing = false;
    this.#logger.info({ host: this.#config.host, port: this.#config.port }, 'rate-limit store available again: counts are shared');
  }

  #connect(password: string | undefined): Redis {
    const { tls } = this.#config;
    const redis = new Redis({
      host: this.#config.host,
      port: this.#config.port,
      ...(this.#config.user ? { username: this.#config.user } : {}),
      ...(password === undefined ? {} : { password }),
      tls: tls ? verifiedTls(this.#config.host, tls) : undefined,
      connectTimeout: this.#config.connectTimeoutMs,
      commandTimeout: this.#config.commandTimeoutMs,
      // While disconnected, fail at once (the request is counted locally) instead of queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, at most every 2 s.
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      // Only what the ACL of the README allows: no INFO ready check, no CLIENT SETINFO.
      enableReadyCheck: false,
      disableClientInfo: true,
    });
    redis.on('error', (err: Error) => this.#failed(err));
    redis.on('ready', () => this.#recovered());
    return redis;
  }

  /** A new password: a new connection uses it; the old one finishes what it sent, then closes. */
  #reconnect(password: string): void {
    const old = this.#redis;
    this.#redis = this.#connect(password);
    void quit(old);
  }

  get clients(): number {
    return this.#windows.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** On shutdown, after the HTTP server has drained: answers still on their way are awaited, then the connection closes. */
  async close(): Promise<void> {
    this.#password?.close();
    await quit(this.#redis);
  }
}

/** The password file, or none when INSECURE_DEV_MODE allows a Redis without AUTH and no file is mounted. */
function passwordFile(config: RedisConfig, dir: string, logger: Logger, onChange: (value: string) => void): SecretFile | undefined {
  // An empty file is refused even then: it is a mistake, not a Redis without AUTH.
  if (config.passwordOptional && !existsSync(join(dir, REDIS_PASSWORD_FILE))) return undefined;
  return new SecretFile(REDIS_PASSWORD_FILE, dir, config.secretsReloadMs, onChange, logger);
}

/** QUIT lets Redis answer what was sent first; a connection that cannot (it is down) is closed at once. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}
