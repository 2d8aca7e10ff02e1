import { type Database, RETRY_AFTER_S } from './database.ts';
import { GREETING_SQL } from './database-driver.ts';
import { greet } from './greeting.ts';
import { errorBody } from './http-service.ts';
import { DatabaseUnavailable } from './sql.ts';

/**
 * The sample routes that use the database, apart from the HTTP framework: POST /greetings records a name,
 * GET /greetings?name=… says how often it was recorded. Every value reaches the database as a parameter.
 */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * `work`'s answer; when the database cannot answer now (down, too slow, refusing connections), 503 with
 * Retry-After and the app's error body, and one short log line, instead of a 500 with the driver's whole error.
 */
async function answering(database: Database, work: () => Promise<Answer>): Promise<Answer> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof DatabaseUnavailable)) throw err;
    database.reportUnavailable(err);
    return { status: 503, body: errorBody(503), headers: { 'retry-after': String(RETRY_AFTER_S) } };
  }
}

/** The name to store: the same rule as GET /hello's, and required here. */
function nameFrom(value: unknown): { ok: true; name: string } | { ok: false; answer: Answer } {
  if (value === undefined) return { ok: false, answer: { status: 400, body: errorBody(400, 'name is required') } };
  const greeting = greet(value);
  if (!greeting.ok || typeof value !== 'string') {
    return { ok: false, answer: { status: 400, body: errorBody(400, greeting.message) } };
  }
  return { ok: true, name: value.trim() };
}

async function countOf(database: Database, name: string): Promise<number> {
  const [row] = await database.query<{ count: number | string }>(GREETING_SQL.count, [name]);
  // PostgreSQL returns COUNT(*) as a string (a bigint), MySQL as a number.
  return Number(row?.count ?? 0);
}

/** POST /greetings with `{"name":"Ada"}`. */
export async function recordGreeting(database: Database, body: unknown): Promise<Answer> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { status: 400, body: errorBody(400, 'the body must be a JSON object such as {"name":"Ada"}') };
  }
  const parsed = nameFrom((body as { name?: unknown }).name);
  if (!parsed.ok) return parsed.answer;
  const { name } = parsed;
  return answering(database, async () => {
    await database.query(GREETING_SQL.insert, [name]);
    return { status: 201, body: { name, count: await countOf(database, name) } };
  });
}

/** GET /greetings?name=Ada */
export async function greetingCount(database: Database, name: unknown): Promise<Answer> {
  const parsed = nameFrom(name);
  if (!parsed.ok) return parsed.answer;
  const stored = parsed.name;
  return answering(database, async () => ({ status: 200, body: { name: stored, count: await countOf(database, stored) } }));
}
