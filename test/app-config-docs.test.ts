/**
 * The emitted README's configuration table is what src/config.ts does, and the service's timeouts fit the
 * chart's drain: checked on the rendered files, for both frameworks.
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

/** Node checks the headers and request timeouts this often (src/http-server.ts): they fire up to this late. */
const TIMEOUT_CHECK_INTERVAL_MS = 500;
/** After the drain deadline, the shutdown waits this long for closed connections to go (src/shutdown.ts). */
const CLOSE_ALL_GRACE_MS = 1_000;

const camel = (envName: string) => envName.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

async function rendered(framework: string) {
  const tree = await renderService(await answersFor('orders-api', { framework, port: '9090' }));
  const text = (path: string) => tree.get(path)!.toString('utf8');
  const config = text('src/config.ts');
  const defaults = Object.fromEntries(
    [.../export const DEFAULTS = \{([\s\S]*?)\} as const;/.exec(config)![1]!.matchAll(/^ {2}(\w+): '?([\w./:]+?)'?,$/gm)].map(([, key, value]) => [
      key!,
      value!.replaceAll('_', ''),
    ]),
  );
  const readVariables = [...config.matchAll(/\b(?:get|integer|port|ms)\('([A-Z_]+)'/g)].map(([, name]) => name!);
  const table = new Map<string, string>();
  for (const [, names, value] of text('README.md').matchAll(/^\| ((?:`[A-Z_]+`(?: \/ )?)+) \| (.+?) \| .+ \|$/gm)) {
    const values = value!.split(' / ');
    names!.split(' / ').forEach((name, i) => table.set(name.replaceAll('`', ''), values[i] ?? value!));
  }
  return { text, defaults, readVariables, table, values: parse(text('chart/values.yaml')) };
}

describe.each(['fastify', 'express'])('%s: configuration', (framework) => {
  it('the README documents exactly the variables src/config.ts reads, with its defaults', async () => {
    const { defaults, readVariables, table } = await rendered(framework);
    expect([...table.keys()].sort()).toEqual([...new Set(readVariables)].sort());
    for (const [name, shown] of table) {
      if (name === 'PORT') expect(shown).toBe('`9090`');
      else if (shown.startsWith('unset')) expect(defaults[camel(name)], name).toBeUndefined();
      else expect(shown, name).toBe(`\`${defaults[camel(name)]}\``);
    }
    expect(defaults).toMatchObject({ headersTimeoutMs: '5000', requestTimeoutMs: '8000', idleTimeoutMs: '5000', keepAliveTimeoutMs: '72000' });
  });

  it("the timeouts fit the chart's drain: a request still arriving when draining starts ends before the deadline", async () => {
    const { defaults, values } = await rendered(framework);
    const deadlineMs = values.config.shutdownTimeoutMs;
    expect(Number(defaults.shutdownTimeoutMs)).toBe(deadlineMs);
    expect(Number(defaults.headersTimeoutMs)).toBeLessThanOrEqual(Number(defaults.requestTimeoutMs));
    expect(Number(defaults.requestTimeoutMs) + TIMEOUT_CHECK_INTERVAL_MS).toBeLessThan(deadlineMs);
    expect(Number(defaults.idleTimeoutMs) + TIMEOUT_CHECK_INTERVAL_MS).toBeLessThan(deadlineMs);
    // The whole shutdown, the closing of what is left at the deadline included, ends within the grace period.
    expect(values.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(values.config.shutdownDelayMs + deadlineMs + CLOSE_ALL_GRACE_MS);
  });

  it('the README’s claims about proxies, pipelining and probes are what the source and its tests hold', async () => {
    const { text } = await rendered(framework);
    const readme = text('README.md').replace(/\s+/g, ' ');
    for (const path of ['test/early-answers.test.ts', 'src/pipeline.ts', 'test/pipelining.test.ts', 'test/probe-listener.test.ts']) {
      expect(readme).toContain(`\`${path}\``);
      expect(text(path).length).toBeGreaterThan(0);
    }
    expect(text('test/early-answers.test.ts')).toContain("assert.equal(x.responses[0]?.headers.connection, 'close');");
    expect(readme).toContain('at most 16 requests run at once, none while 16 KiB of answers are unread');
    expect(readme).toContain('is handed to it 2 KiB at a time: at most 128 requests of a connection wait');
    expect(readme).toContain('every new one for the next 60 s');
    expect(readme).toContain('a request that would wait while 8,192 already do, in the whole process, closes its connection');
    expect(text('src/pipeline.ts')).toContain('export const PIPELINE_DEPTH = 16;');
    expect(text('src/pipeline.ts')).toContain('export const PIPELINE_QUEUE = 128;');
    expect(text('src/pipeline.ts')).toContain('export const PARSE_SLICE = 2 * 1024;');
    expect(text('src/pipeline.ts')).toContain('export const PROCESS_QUEUE = 8 * 1024;');
    expect(text('src/pipeline.ts')).toContain('export const SLICING_WINDOW_MS = 60_000;');
    expect(readme).toContain("Measured with 200 connections pipelining `GET /healthz` and never reading, the heap sized as V8 sizes it in a pod with the chart's 256 MiB limit");
    expect(readme).toContain('and the service answers on once they are gone');
    expect(readme).toContain('the probe and metrics listeners gate their connections the same way');
    expect(text('src/side-listener.ts')).toContain('gate.admit(run)');
    expect(text('test/pipelining.test.ts')).toContain("{ name: 'the probe port', logged: { msg: 'probe listener started', key: 'probePort' }, connections: SIDE_LIMITS.maxConnections,");
    expect(text('test/pipelining.test.ts')).toContain('export const ATTACK = { connections: 200,');
    expect(text('test/pipelining.test.ts')).toContain('export const MEMORY_LIMIT_MIB = 256;');
    expect(text('test/pipelining.test.ts')).toContain("export const POD_HEAP_FLAGS = [`--max-old-space-size=${MEMORY_LIMIT_MIB}`, '--max-semi-space-size=2'];");
    expect(text('test/pipelining.test.ts')).toContain('[...POD_HEAP_FLAGS, join(');
    expect(text('test/pipelining.test.ts')).not.toContain('todo');
    expect(text('test/pipelining.test.ts')).toContain('assert.ok(peakMiB < MEMORY_LIMIT_MIB');
    expect(parse(text('chart/values.yaml')).resources.limits.memory).toBe('256Mi');
    expect(readme).toContain('probes answer within 1 s');
    expect(text('test/probe-listener.test.ts')).toContain('export const PROBE_ANSWER_BOUND_MS = 1_000;');
  });

  it('the files the README names exist, and the constants this test relies on are the source’s', async () => {
    const { text } = await rendered(framework);
    for (const path of ['src/http-server.ts', 'test/hostile-traffic.test.ts']) expect(text('README.md')).toContain(`\`${path}\``);
    expect(text('test/hostile-traffic.test.ts')).toMatch(/spoofed forwarded addresses/);
    // "under 400 bytes each" in the table is what the service's own test holds the store to.
    expect(text('README.md')).toContain('forgotten first (under 400 bytes each)');
    expect(text('test/rate-limiter.test.ts')).toContain('assert.ok(perClient < 400,');
    expect(text('src/http-server.ts')).toContain(`const TIMEOUT_CHECK_INTERVAL_MS = ${TIMEOUT_CHECK_INTERVAL_MS};`);
    expect(text('src/shutdown.ts')).toContain(`const CLOSE_ALL_GRACE_MS = ${CLOSE_ALL_GRACE_MS.toLocaleString('en').replace(',', '_')};`);
  });
});
