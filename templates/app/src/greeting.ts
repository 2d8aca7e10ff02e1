/** The sample route's logic, kept apart from the HTTP framework so that it is easy to test and to replace. */

const NAME = /^[\p{L}\p{M}\p{N} .'-]{1,64}$/u;

export type Greeting = { ok: true; message: string } | { ok: false; message: string };

/** `name` is the raw query value: absent, a string, or (for `?name=a&name=b`) an array. */
export function greet(name: unknown): Greeting {
  if (name === undefined) return { ok: true, message: 'Hello, world!' };
  if (typeof name !== 'string' || !NAME.test(name.trim())) {
    return { ok: false, message: "name must be 1 to 64 letters, digits, spaces or . ' -" };
  }
  return { ok: true, message: `Hello, ${name.trim()}!` };
}

/** POST /hello's JSON body: `{ "name": "Ada" }`, or no body at all. */
export function greetBody(body: unknown): Greeting {
  if (body === undefined) return greet(undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'the body must be a JSON object such as {"name":"Ada"}' };
  }
  return greet((body as { name?: unknown }).name);
}
