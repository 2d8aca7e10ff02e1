/**
 * SQL as the code may write it: constant text, values always separate. `sql` is a tagged template that takes no
 * `${}` (TypeScript rejects one, and so does the function), so no value can be pasted into a statement: every
 * value travels as a parameter, which the driver sends apart from the statement. Migrations are files
 * (`migrations/*.sql`) read as they are.
 */
declare const sqlBrand: unique symbol;
export type Sql = string & { readonly [sqlBrand]: true };

export function sql(strings: TemplateStringsArray, ...values: never[]): Sql {
  if (values.length > 0 || strings.length !== 1) throw new TypeError('sql`` takes no ${}: pass values as parameters');
  return strings[0] as Sql;
}

/** A migration file's text: run as it is, by the migrations Job only. */
export type MigrationScript = string & { readonly [sqlBrand]: 'migration' };

/** One connection of the pool, for work that must stay on one connection (a lock, a transaction). */
export interface Session {
  query<Row = Record<string, unknown>>(statement: Sql, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a migration file (several statements). */
  script(text: MigrationScript): Promise<void>;
}

/** What each driver (src/database-driver.ts) provides: a bounded pool. */
export interface DriverPool {
  query<Row = Record<string, unknown>>(statement: Sql, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs `work` on one connection, returned to the pool afterwards. */
  session<T>(work: (session: Session) => Promise<T>): Promise<T>;
  /** Stops handing out connections; resolves once the ones in use are returned and all are closed. */
  end(): Promise<void>;
}

/**
 * The database cannot answer now: unreachable, refusing connections, too slow (a statement or a wait for a
 * connection over its timeout), shutting down. Routes answer it with 503 and Retry-After (src/greetings.ts);
 * `kind` and `code` say which, for one short log line: never the statement or the connection's settings.
 */
export class DatabaseUnavailable extends Error {
  override name = 'DatabaseUnavailable';
  readonly kind: 'timeout' | 'connection' | 'overloaded' | 'authentication';
  readonly code: string;

  constructor(kind: DatabaseUnavailable['kind'], code: string, cause?: unknown) {
    // The driver's own message where there is one (what a log line of the migrations Job or of readiness shows).
    super(cause instanceof Error ? cause.message : `database unavailable: ${kind} (${code})`, { cause });
    this.kind = kind;
    this.code = code;
  }
}

/** Runs `work`; past `ms`, gives up on it with DatabaseUnavailable('timeout', code) after calling `abandon`. */
export async function within<T>(ms: number, code: string, work: Promise<T>, abandon: () => void = () => {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          abandon();
          reject(new DatabaseUnavailable('timeout', code));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // The abandoned work's own failure (its connection destroyed) is not a second error.
    work.catch(() => {});
  }
}
