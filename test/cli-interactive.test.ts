import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../lib/manifest.js';
import { tempDir } from './support/cli.js';
import { keys, runCliInTerminal } from './support/pty.js';

describe('interactive prompts in a real terminal', () => {
  it('a preset\'s locked answers are not prompted', async () => {
    const parent = await tempDir();
    await writeFile(join(parent, 'acme.yaml'), 'locks:\n  framework: express\n  database: postgres\n  rateLimitStore: redis\n  ci: gitlab\n  lifecycle: production\n');
    const term = runCliInTerminal(['svc', '--preset', 'acme.yaml', '--port', '9000', '--description', 'x', '--owner', 'payments', '--image', 'ghcr.io/payments/svc', '--node-version', '26'], parent);
    await term.answer(/Service name/, keys.enter);
    await term.answer(/Base images of the Dockerfile/, keys.enter);
    await term.answer(/Platforms of the image/, keys.enter);
    await term.answer(/Backstage system/, keys.enter);
    await term.answer(/How traffic reaches the service/, keys.enter);
    await term.answer(/Which proxies send the traffic/, keys.enter);
    await term.answer(/own user namespace/, keys.enter);
    expect(await term.exited).toBe(0);
    expect(term.screen()).not.toMatch(/HTTP framework|Database the service uses|Where the rate limiter counts|CI system|Backstage lifecycle/);
    const manifest = JSON.parse(await readFile(join(parent, 'svc', '.hardened-service.json'), 'utf8')) as Manifest;
    expect(manifest.answers).toMatchObject({ framework: 'express', database: 'postgres', rateLimitStore: 'redis', ci: 'gitlab', lifecycle: 'production' });
  });

  it('asks for every answer not given, re-asks on invalid input, and writes what was chosen', async () => {
    const parent = await tempDir();
    const term = runCliInTerminal(['svc', '--port', '9000'], parent);
    await term.answer(/Service name/, `${keys.clearLine}Bad_Name${keys.enter}`);
    await term.answer(/not a DNS-1123 label/, `${keys.clearLine}pay-svc${keys.enter}`);
    await term.answer(/One-line description/, `Payments "core"${keys.enter}`);
    await term.answer(/HTTP framework/, `${keys.down}${keys.enter}`);
    // --port was given as a flag: no port prompt; next are the backing services, then the Node line.
    await term.answer(/Database the service uses/, `${keys.down}${keys.enter}`);
    await term.answer(/Where the rate limiter counts/, keys.enter);
    await term.answer(/Node.js major version/, keys.enter);
    await term.answer(/Base images of the Dockerfile/, keys.enter);
    await term.answer(/Platforms of the image/, keys.enter);
    await term.answer(/Owning team/, `${keys.clearLine}payments${keys.enter}`);
    await term.answer(/CI system/, `${keys.down}${keys.enter}`);
    // The image defaults to none: the chosen CI system's repository registry, named at run time (core/image.ts).
    await term.answer(/Container image name/, keys.enter);
    // The Backstage system defaults to the owner's slug; lifecycle is a choice.
    await term.answer(/Backstage system/, keys.enter);
    await term.answer(/Backstage lifecycle/, `${keys.down}${keys.enter}`);
    // Exposure: an Ingress; the data plane Istio's (the fourth choice); user namespaces on.
    await term.answer(/How traffic reaches the service/, `${keys.down}${keys.enter}`);
    await term.answer(/Which proxies send the traffic/, `${keys.down}${keys.down}${keys.down}${keys.enter}`);
    await term.answer(/own user namespace/, `${keys.down}${keys.enter}`);
    expect(await term.exited).toBe(0);
    expect(term.screen()).not.toMatch(/HTTP port/);
    expect(term.screen()).toContain('Next steps:');
    const manifest = JSON.parse(await readFile(join(parent, 'svc', '.hardened-service.json'), 'utf8')) as Manifest;
    expect(manifest.answers).toEqual({
      name: 'pay-svc',
      description: 'Payments "core"',
      framework: 'express',
      port: 9000,
      database: 'postgres',
      rateLimitStore: 'memory',
      nodeVersion: 26,
      base: 'distroless',
      platforms: 'linux/amd64,linux/arm64',
      owner: 'payments',
      image: '',
      ci: 'gitlab',
      system: 'payments',
      lifecycle: 'production',
      exposure: 'ingress',
      dataPlane: 'istio',
      userNamespaces: 'on',
    });
  });

  it('Ctrl-C at a prompt cancels with exit 130 and writes nothing', async () => {
    const parent = await tempDir();
    const term = runCliInTerminal(['svc'], parent);
    await term.answer(/Service name/, keys.ctrlC);
    expect(await term.exited).toBe(130);
    await term.waitFor(/cancelled, nothing written/);
    expect(existsSync(join(parent, 'svc'))).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('--yes never prompts, even in a terminal', async () => {
    const parent = await tempDir();
    const term = runCliInTerminal(['svc', '--yes'], parent);
    expect(await term.exited).toBe(0);
    expect(term.screen()).not.toMatch(/\?.*Service name/);
    expect(existsSync(join(parent, 'svc', 'Dockerfile'))).toBe(true);
  });
});
