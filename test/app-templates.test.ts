import { describe, expect, it } from 'vitest';
import type { Answers } from '../core/options.js';
import { renderService } from '../lib/render-service.js';
import { answersFor } from './support/answers.js';

const text = (tree: Map<string, Buffer>, path: string): string => {
  const bytes = tree.get(path);
  if (!bytes) throw new Error(`${path} not rendered`);
  return bytes.toString('utf8');
};

async function render(overrides: Partial<Record<keyof Answers, string>> = {}) {
  return renderService(await answersFor('orders-api', overrides));
}

const SHARED_SOURCES = [
  'src/client-address.ts',
  'src/config.ts',
  'src/greeting.ts',
  'src/http-server.ts',
  'src/http-service.ts',
  'src/lifecycle.ts',
  'src/logger.ts',
  'src/metrics.ts',
  'src/rate-limiter.ts',
  'src/secrets.ts',
  'src/server.ts',
  'src/service-info.ts',
  'src/shutdown.ts',
];
const TESTS = [
  'test/client-address.test.ts',
  'test/config.test.ts',
  'test/helpers.ts',
  'test/hostile-traffic.test.ts',
  'test/http.test.ts',
  'test/logging.test.ts',
  'test/metrics.test.ts',
  'test/rate-limiter.test.ts',
  'test/raw-http.ts',
  'test/secrets.test.ts',
  'test/shutdown.test.ts',
];

describe('app templates: the emitted TypeScript service', () => {
  it.each(['fastify', 'express'])('%s: emits the shared service, its framework wiring and its tests', async (framework) => {
    const tree = await render({ framework });
    for (const path of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      '.gitignore',
      '.npmrc',
      '.nvmrc',
      '.editorconfig',
      'src/app.ts',
      ...SHARED_SOURCES,
      ...TESTS,
    ]) {
      expect(tree.has(path), path).toBe(true);
    }
    expect(tree.has('_gitignore')).toBe(false);
  });

  it('shares everything but src/app.ts and the dependency list between the frameworks', async () => {
    const fastify = await render({ framework: 'fastify' });
    const express = await render({ framework: 'express' });
    for (const path of [...SHARED_SOURCES, ...TESTS, 'tsconfig.json']) expect(text(fastify, path), path).toBe(text(express, path));
    expect(text(fastify, 'src/app.ts')).toMatch(/from 'fastify'/);
    expect(text(fastify, 'src/app.ts')).not.toMatch(/express/);
    expect(text(express, 'src/app.ts')).toMatch(/from 'express'/);
    expect(text(express, 'src/app.ts')).not.toMatch(/fastify/);
  });

  it.each([
    ['fastify', ['fastify', 'helmet', 'pino'], ['@types/node', 'typescript']],
    ['express', ['express', 'helmet', 'pino'], ['@types/express', '@types/node', 'typescript']],
  ])('%s: package.json pins exact versions of a few dependencies', async (framework, deps, devDeps) => {
    const pkg = JSON.parse(text(await render({ framework }), 'package.json'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(deps);
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(devDeps);
    for (const version of [...Object.values(pkg.dependencies), ...Object.values(pkg.devDependencies)]) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(pkg).toMatchObject({ name: 'orders-api', private: true, type: 'module' });
    expect(pkg.scripts).toMatchObject({
      build: 'tsc -p tsconfig.build.json',
      start: 'node dist/server.js',
      test: 'node --test "test/*.test.ts"',
      typecheck: 'tsc -p tsconfig.json',
    });
  });

  it.each([
    [26, '>=26.0.0', '26.'],
    [24, '>=24.0.0', '24.'],
    [22, '>=22.18.0', '22.'],
  ])('Node %i: engines, .nvmrc and @types/node follow the line', async (major, engine, typesPrefix) => {
    const tree = await render({ nodeVersion: String(major) });
    const pkg = JSON.parse(text(tree, 'package.json'));
    expect(pkg.engines.node).toBe(engine);
    expect(pkg.devDependencies['@types/node'].startsWith(typesPrefix)).toBe(true);
    expect(text(tree, '.nvmrc')).toBe(`${major}\n`);
  });

  it('puts the port and name into service-info.ts, escaped as JS strings', async () => {
    const tree = await render({ port: '9090', description: `R&D "core" </script> ${'$'}{x}` });
    const info = text(tree, 'src/service-info.ts');
    expect(info).toMatch(/^export const DEFAULT_PORT = 9090;$/m);
    expect(info).toMatch(/^export const SERVICE_NAME = "orders-api";$/m);
    expect(JSON.parse(text(tree, 'package.json')).description).toBe(`R&D "core" </script> ${'$'}{x}`);
  });

  it('never reads secrets from the environment, and defaults the contract the chart relies on', async () => {
    const tree = await render();
    const config = text(tree, 'src/config.ts');
    for (const [name, value] of [
      ['host', "'0.0.0.0'"],
      ['logLevel', "'info'"],
      ['secretsDir', "'/run/secrets'"],
      ['shutdownDelayMs', '5_000'],
      ['shutdownTimeoutMs', '10_000'],
      ['rateLimitMax', '100'],
      ['rateLimitWindowMs', '60_000'],
    ]) {
      expect(config).toContain(`  ${name}: ${value},`);
    }
    for (const path of [...tree.keys()].filter((p) => p.startsWith('src/'))) {
      const source = text(tree, path);
      // Every environment variable the service reads goes through loadConfig's `get`, in config.ts.
      if (path !== 'src/config.ts' && path !== 'src/server.ts') expect(source, path).not.toMatch(/process\.env/);
      expect(source, path).not.toMatch(/(SECRET|TOKEN|PASSWORD|API_KEY)['"]?\]|env\.(\w*_)?(SECRET|TOKEN|PASSWORD|KEY)\b/);
    }
  });
});
