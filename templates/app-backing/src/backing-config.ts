import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';
import { readSecret, SecretError } from './secrets.ts';

/**
 * What the clients of the database and of Redis share: where the server is, TLS that verifies the server's
 * certificate (on unless a developer turns it off, loudly), and a password read from a mounted file and read
 * again when the file changes.
 */
export interface BackingEndpoint {
  host: string;
  port: number;
  /** The CA that signed the server's certificate (PEM), or false when TLS is off (INSECURE_DEV_MODE only). */
  tls: { ca: string; caFile: string; servername: string | undefined } | false;
}

type Env = Record<string, string | undefined>;

export const INSECURE_DEV_MODE = 'INSECURE_DEV_MODE';

/**
 * INSECURE_DEV_MODE=true: the one switch that lets a backing service be reached without TLS (a laptop, the CI
 * pipeline's throwaway database). The chart never sets it; the service logs a warning at start when it is on.
 */
export function insecureDevMode(env: Env): boolean {
  return env[INSECURE_DEV_MODE]?.trim() === 'true';
}

/** Reads `<PREFIX>_*` variables one at a time, collecting every problem for one ConfigError line. */
export class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  get(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === '' ? undefined : value;
  }

  required(name: string, what: string): string {
    const value = this.get(name);
    if (value === undefined) this.problems.push(`${name} is required: ${what}`);
    return value ?? '';
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name}=${JSON.stringify(raw.slice(0, 40))} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  /** HOST and PORT of a server, and its TLS: verify-full against <PREFIX>_TLS_CA_FILE unless <PREFIX>_TLS=off. */
  endpoint(prefix: string, what: string, defaultPort: number, defaultCaFile: string): BackingEndpoint {
    const host = this.required(`${prefix}_HOST`, `the ${what} server's host name`);
    if (host !== '' && !isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) {
      this.problems.push(`${prefix}_HOST=${JSON.stringify(host.slice(0, 40))} must be a host name or an IP address`);
    }
    const port = this.integer(`${prefix}_PORT`, defaultPort, 1, 65535);
    const mode = this.get(`${prefix}_TLS`) ?? 'verify-full';
    if (mode === 'off') {
      if (!insecureDevMode(this.#env)) {
        this.problems.push(
          `${prefix}_TLS=off would send the ${what} password and data in clear text: refused unless ${INSECURE_DEV_MODE}=true, which is for a developer machine or a CI job's throwaway server, never for production`,
        );
      }
      return { host, port, tls: false };
    }
    if (mode !== 'verify-full') this.problems.push(`${prefix}_TLS=${JSON.stringify(mode.slice(0, 40))} must be verify-full or off`);
    const caFile = this.get(`${prefix}_TLS_CA_FILE`) ?? defaultCaFile;
    let ca = '';
    try {
      ca = readFileSync(caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) this.problems.push(`${prefix}_TLS_CA_FILE ${caFile} holds no PEM certificate`);
    } catch (err) {
      this.problems.push(
        `${prefix}_TLS_CA_FILE ${caFile} cannot be read (${(err as NodeJS.ErrnoException).code}): mount the CA that signed the ${what} server's certificate there (chart: the ${what} tls.ca values)`,
      );
    }
    // SNI carries host names only; with an IP address the certificate must name that IP.
    return { host, port, tls: { ca, caFile, servername: isIP(host) ? undefined : host } };
  }

  /** Throws one ConfigError naming every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(`invalid configuration: ${this.problems.join('; ')}`);
  }
}

/**
 * The TLS options every client gets: the mounted CA, and the server's identity checked against the host dialled
 * (an IP address against the certificate's IP SANs), whatever name a driver would otherwise check it against.
 */
export function verifiedTls(host: string, tls: { ca: string; servername: string | undefined }) {
  return {
    ca: tls.ca,
    rejectUnauthorized: true,
    ...(tls.servername ? { servername: tls.servername } : {}),
    checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
  };
}

/**
 * A password file's value; an empty or blank file is refused (SecretError): a driver given an empty password may
 * fall back to one from the environment (PGPASSWORD), and passwords never come from there.
 */
export function readPassword(name: string, dir: string): string {
  const value = readSecret(name, dir);
  if (value.trim() === '') throw new SecretError(`secret ${name} is empty: ${join(dir, name)} must hold the password`);
  return value;
}

/**
 * A password in a mounted secret file, read at start and read again when the file changes. Kubernetes updates a
 * mounted Secret in place (about a minute after the Secret changes), so a rotated password reaches the service
 * without a restart: `onChange` gets the new value. Polled (stat every `intervalMs`), because the kubelet swaps a
 * symlink rather than writing the file, which file-change events miss. Nothing here logs a value.
 */
export class SecretFile {
  readonly name: string;
  readonly #path: string;
  readonly #dir: string;
  readonly #listener: () => void;
  #value: string;

  constructor(name: string, dir: string, intervalMs: number, onChange: (value: string) => void, logger: Logger) {
    this.name = name;
    this.#dir = dir;
    this.#path = join(dir, name);
    this.#value = readPassword(name, dir);
    this.#listener = () => {
      let next: string;
      try {
        next = readPassword(this.name, this.#dir);
      } catch (err) {
        // Mid-swap, or the Secret lost the key: keep the value in use, and say so.
        logger.warn({ secret: this.name, err: (err as Error).message }, 'secret file unreadable: keeping the value in use');
        return;
      }
      if (next === this.#value) return;
      this.#value = next;
      logger.info({ secret: this.name }, 'secret file changed: new connections use the new value');
      onChange(next);
    };
    watchFile(this.#path, { interval: intervalMs, persistent: false }, this.#listener);
  }

  get value(): string {
    return this.#value;
  }

  close(): void {
    unwatchFile(this.#path, this.#listener);
  }
}

/** At every start: each server reached without TLS (INSECURE_DEV_MODE) gets a warning line, so it never goes unnoticed. */
export function warnIfInsecure(logger: Logger, endpoints: Record<string, BackingEndpoint>): void {
  for (const [what, endpoint] of Object.entries(endpoints)) {
    if (endpoint.tls === false) {
      logger.warn({ [INSECURE_DEV_MODE]: true, host: endpoint.host, port: endpoint.port }, `${what} TLS is off (${INSECURE_DEV_MODE}): development only, never in production`);
    }
  }
}
