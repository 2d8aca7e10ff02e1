/**
 * End to end: generate a service, let the team edit it, upgrade it to changed templates, and check that the
 * upgraded service still installs from its lockfile, type-checks and passes its own tests on Node 26.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { npm, requireServiceTools } from './support/node-lines.js';
import { edit, generate, replaceOnce, rewindToOlderGenerator } from './support/older-service.js';

describe('generate → edit → upgrade → the service still installs and passes its tests', () => {
  beforeAll(requireServiceTools);

  it('fastify service with team edits in code, docs and image, upgraded from older templates', async () => {
    const parent = await tempDir();
    const dir = await generate(parent, 'svc');
    // The older templates: a different sample greeting, no HEALTHCHECK, an older README heading.
    await rewindToOlderGenerator(dir, (tree) => {
      const text = (p: string) => tree.get(p)!.toString();
      tree.set('Dockerfile', Buffer.from(text('Dockerfile').replace(/# No curl in the image[\s\S]*?\n(?=# Exec form)/, '')));
      tree.set('README.md', Buffer.from(replaceOnce(text('README.md'), '## Build the image', '## Container image')));
      tree.set('src/config.ts', Buffer.from(`${text('src/config.ts')}\n// Older templates ended with this line.\n`));
    });
    // The team's own edits, in files the upgrade also touches and in files it does not.
    await edit(dir, 'src/config.ts', (t) => `// Team: configuration is reviewed by the platform group.\n${t}`);
    await edit(dir, 'README.md', (t) => `${t}\n## On call\n\n#orders-oncall\n`);
    await edit(dir, 'Dockerfile', (t) => replaceOnce(t, 'WORKDIR /app\nENV npm_config', 'WORKDIR /app\n# Team: corporate proxy goes here\nENV npm_config'));

    const result = await runCli(['upgrade', dir, '--yes'], { cwd: parent });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('svc: 3 merged (0.0.9 → 0.1.0)');

    const config = await readFile(join(dir, 'src/config.ts'), 'utf8');
    expect(config.startsWith('// Team: configuration is reviewed by the platform group.\n')).toBe(true);
    expect(config).not.toContain('Older templates ended with this line.');
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('## Build the image');
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('#orders-oncall');
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toMatch(/# Team: corporate proxy goes here[\s\S]*HEALTHCHECK/);

    await npm(['ci'], dir);
    await npm(['run', 'typecheck'], dir, 120_000);
    const tests = await npm(['test'], dir, 120_000);
    expect(tests.all).toMatch(/ℹ fail 0/);
    expect((await runCli(['upgrade', dir, '--check'], { cwd: parent })).exitCode).toBe(0);
  });
});
