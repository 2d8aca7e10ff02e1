import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';

interface BadCase {
  why: string;
  args: string[];
  message: RegExp;
  /** Makes the situation the case needs inside the parent folder. */
  setup?: (parent: string) => Promise<void>;
}

const cases: BadCase[] = [
  { why: 'name with capitals and _', args: ['svc', '--name', 'Bad_Name'], message: /service name "Bad_Name" is not a DNS-1123 label/ },
  { why: 'name too long', args: ['svc', '--name', 'a'.repeat(64)], message: /is 64 characters: use at most 63/ },
  { why: 'name ends with -', args: ['svc', '--name', 'svc-'], message: /not a DNS-1123 label/ },
  { why: 'privileged port', args: ['svc', '--port', '80'], message: /port 80 is out of range: use a whole number from 1024 to 65535/ },
  { why: 'port too large', args: ['svc', '--port', '70000'], message: /port 70000 is out of range/ },
  { why: 'port not a number', args: ['svc', '--port', 'http'], message: /--port "http" is not a whole number/ },
  { why: 'unknown flag', args: ['svc', '--colour'], message: /unknown option --colour: see --help/ },
  { why: 'flag without its value', args: ['svc', '--port'], message: /option '--port <value>' argument missing/ },
  { why: 'unknown framework', args: ['svc', '--framework', 'koa'], message: /--framework "koa" is not one of: fastify, express/ },
  { why: 'end-of-life Node line', args: ['svc', '--node-version', '20'], message: /--node-version "20" is not one of: 26, 24, 22/ },
  { why: 'unknown base', args: ['svc', '--base', 'alpine'], message: /--base "alpine" is not one of: distroless, dhi/ },
  {
    why: 'DHI for a Node line with no pinned DHI digest',
    args: ['svc', '--base', 'dhi', '--node-version', '22'],
    message: /--base dhi has no pinned Docker Hardened Image for Node 22: use --node-version 26 or 24, or --base distroless$/,
  },
  { why: 'unknown platform list', args: ['svc', '--platforms', 'linux/s390x'], message: /--platforms "linux\/s390x" is not one of: linux\/amd64,linux\/arm64, linux\/amd64, linux\/arm64/ },
  { why: 'image with a tag', args: ['svc', '--image', 'ghcr.io/acme/svc:latest'], message: /image "ghcr.io\/acme\/svc:latest" is not a valid image name/ },
  { why: 'image in capitals', args: ['svc', '--image', 'ghcr.io/Acme/svc'], message: /is not a valid image name/ },
  { why: 'owner with spaces', args: ['svc', '--owner', 'team a'], message: /owner "team a" is not a team reference/ },
  { why: 'two directories', args: ['a', 'b'], message: /expected one directory, got 2/ },
  { why: 'no directory without a terminal', args: [], message: /missing target directory/ },
  {
    why: 'non-empty target',
    args: ['svc'],
    message: /svc is not empty: choose a new directory, or pass --force/,
    setup: async (parent) => {
      await mkdir(join(parent, 'svc'));
      await writeFile(join(parent, 'svc', 'keep.txt'), 'x');
    },
  },
  {
    why: 'target is a file',
    args: ['svc'],
    message: /svc exists and is not a directory/,
    setup: (parent) => writeFile(join(parent, 'svc'), 'x'),
  },
];

describe('bad input: one line, exit 2, no stack trace, nothing written', () => {
  it.each(cases)('$why', async ({ args, message, setup }) => {
    const parent = await tempDir();
    await setup?.(parent);
    const before = await readdir(parent);
    const { exitCode, stderr, stdout } = await runCli(args, { cwd: parent });
    expect(exitCode).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^create-hardened-service: /);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
    expect(await readdir(parent)).toEqual(before);
  });

  it('an unwritable parent is refused before anything is rendered', async () => {
    const parent = await tempDir();
    const locked = join(parent, 'locked');
    await mkdir(locked);
    await chmod(parent, 0o755);
    await chmod(locked, 0o555);
    // Root may write anywhere, so run the CLI as an ordinary user (uid 65534, "nobody").
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', join(import.meta.dirname, '..', 'bin', 'create-hardened-service.js'), join(locked, 'svc')], {
      reject: false,
      env: { CI: 'true' },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`create-hardened-service: cannot write to ${locked}: choose a directory you can write to`);
    expect(existsSync(join(locked, 'svc'))).toBe(false);
  });
});
