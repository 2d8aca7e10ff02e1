import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS_END, OPTIONS_START, optionsMarkdownTable } from '../lib/cli/options-table.js';
import { repoRoot } from './support/cli.js';

describe('README', () => {
  it('shows the option table of the current options model (npm run docs)', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf(OPTIONS_START) + OPTIONS_START.length, readme.indexOf(OPTIONS_END)).trim();
    expect(table).toBe(optionsMarkdownTable());
  });

  it('gives the quick start that CI runs: .ci/run runs the README test command', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const ci = await readFile(join(repoRoot, '.ci', 'run'), 'utf8');
    const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quickStart.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm ci && npm run create -- ../my-svc', 'npm test']);
    expect(ci.split('\n')).toContain('npm test');
  });

  it('CI runs the arm64 image proof after npm test, which leaves it out (CONTRIBUTING.md: too slow for every run)', async () => {
    const ci = (await readFile(join(repoRoot, '.ci', 'run'), 'utf8')).split('\n').map((l) => l.trim());
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:arm64']).toContain('vitest run --config vitest.arm64.config.ts');
    expect(ci.indexOf('npm run test:arm64')).toBeGreaterThan(ci.indexOf('npm test'));
    expect(ci.indexOf('bash scripts/enable-arm64-emulation.sh')).toBeLessThan(ci.indexOf('npm run test:arm64'));
    expect(ci.indexOf('bash scripts/enable-arm64-emulation.sh')).toBeGreaterThan(ci.indexOf('npm test'));
    const { default: config } = await import('../vitest.config.js');
    expect(config.test?.exclude).toContain('test/arm64/**');
    const { default: arm64 } = await import('../vitest.arm64.config.js');
    expect(arm64.test?.include).toEqual(['test/arm64/**/*.test.ts']);
  });
});
