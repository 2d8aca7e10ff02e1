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
});
