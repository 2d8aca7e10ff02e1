import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { options } from '../core/options.js';
import { MANIFEST_PATH, type Manifest } from '../lib/manifest.js';
import { generatorVersion } from '../core/package-root.js';
import { listTree, runCli, tempDir } from './support/cli.js';
import { env26 } from './support/node-lines.js';

describe('create-hardened-service CLI', () => {
  it('--help lists every option of the options model and the run flags', async () => {
    const { exitCode, stdout } = await runCli(['--help']);
    expect(exitCode).toBe(0);
    for (const option of options) expect(stdout).toContain(`--${option.flag} <value>`);
    for (const flag of ['--yes', '--dry-run', '--force', '--install', '--git', '--help', '--version']) expect(stdout).toContain(flag);
    expect(stdout).toMatch(/^Usage:\n {2}create-hardened-service <dir> \[options\]/m);
  });

  it('--version prints the package version', async () => {
    const { exitCode, stdout } = await runCli(['--version']);
    expect(exitCode).toBe(0);
    expect(stdout.trim()).toBe(generatorVersion);
  });

  it('generates with defaults, names the service after the directory and records every answer', async () => {
    const parent = await tempDir();
    const { exitCode, stdout, stderr } = await runCli(['Orders_API'], { cwd: parent });
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const dir = join(parent, 'Orders_API');
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as Manifest;
    expect(manifest.generator.version).toBe(generatorVersion);
    expect(manifest.answers).toMatchObject({ name: 'orders-api', framework: 'fastify', port: 8080, nodeVersion: 26 });
    expect(Object.keys(manifest.answers).sort()).toEqual(options.map((o) => o.key).sort());
    const files = await listTree(dir);
    expect(files).toEqual([...Object.keys(manifest.files), MANIFEST_PATH].sort());
    // Progress a person can follow, ending with the next steps.
    expect(stdout).toContain('Creating orders-api (fastify, Node 26, port 8080) in Orders_API/');
    expect(stdout).toMatch(/Next steps:\n {2}cd Orders_API\n {2}nvm install .*\n {2}npm install\n {2}npm test\n {2}docker build/);
  });

  it('next steps: on another Node line than the service\'s, they say so and switch to its .nvmrc first; on its line, not', async () => {
    const parent = await tempDir();
    const other = await runCli(['svc'], { cwd: parent });
    expect(other.exitCode).toBe(0);
    expect(await readFile(join(parent, 'svc', '.nvmrc'), 'utf8')).toBe('26\n');
    // The tests run the CLI on the generator's Node (20), which npm install in a Node 26 service refuses.
    expect(other.stdout).toContain(`  cd svc\n  nvm install   # this is Node ${process.versions.node}, the service's line is 26 (its .nvmrc; fnm use reads it too): npm install refuses Node ${process.versions.node.split('.')[0]}\n  npm install\n`);
    const same = await runCli(['svc26'], { cwd: parent, env: { PATH: env26.PATH } });
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toMatch(/Next steps:\n {2}cd svc26\n {2}npm install\n/);
    expect(same.stdout).not.toContain('nvm');
  });

  it('--dry-run prints the files and writes nothing', async () => {
    const parent = await tempDir();
    const { exitCode, stdout } = await runCli(['svc', '--dry-run'], { cwd: parent });
    expect(exitCode).toBe(0);
    expect(existsSync(join(parent, 'svc'))).toBe(false);
    expect(stdout).toMatch(/Dry run: would write \d+ files to svc\/ \(nothing written\)/);
    expect(stdout).toContain('  Dockerfile (');
    expect(stdout).toContain(`  ${MANIFEST_PATH} (`);
  });

  it('every option is a flag that lands in the answers', async () => {
    const parent = await tempDir();
    const { exitCode } = await runCli(
      ['svc', '--name', 'billing', '--framework', 'express', '--port', '3000', '--database', 'mysql', '--rate-limit-store', 'redis', '--node-version', '24', '--base', 'dhi', '--platforms', 'linux/arm64', '--image', 'registry.example.com:5000/team/billing', '--owner', 'group:default/payments', '--description', 'Bills', '--ci', 'gitlab', '--system', 'billing', '--lifecycle', 'production', '--exposure', 'none', '--data-plane', 'istio', '--user-namespaces', 'on'],
      { cwd: parent },
    );
    expect(exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(join(parent, 'svc', MANIFEST_PATH), 'utf8')) as Manifest;
    expect(manifest.answers).toEqual({
      name: 'billing',
      description: 'Bills',
      framework: 'express',
      port: 3000,
      database: 'mysql',
      rateLimitStore: 'redis',
      nodeVersion: 24,
      base: 'dhi',
      platforms: 'linux/arm64',
      owner: 'group:default/payments',
      image: 'registry.example.com:5000/team/billing',
      ci: 'gitlab',
      system: 'billing',
      lifecycle: 'production',
      exposure: 'none',
      dataPlane: 'istio',
      userNamespaces: 'on',
    });
  });

  it('`create-hardened-service .` in an empty directory fills that same directory (a shell in it sees the files)', async () => {
    const dir = join(await tempDir(), 'here');
    await mkdir(dir);
    const inode = (await stat(dir)).ino;
    const { exitCode, stdout } = await runCli(['.'], { cwd: dir });
    expect(exitCode).toBe(0);
    expect((await stat(dir)).ino).toBe(inode);
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(stdout).toContain('Creating here (');
    expect(stdout).not.toContain('cd .');
  });

  it('writes into a directory that holds only .git, without --force', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, 'svc', '.git'), { recursive: true });
    await writeFile(join(parent, 'svc', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const { exitCode } = await runCli(['svc'], { cwd: parent });
    expect(exitCode).toBe(0);
    expect(await readFile(join(parent, 'svc', '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(existsSync(join(parent, 'svc', 'Dockerfile'))).toBe(true);
  });

  it('--force adds the service to a non-empty directory, replacing only files the service has', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, 'svc'));
    await writeFile(join(parent, 'svc', 'NOTES.txt'), 'mine\n');
    await writeFile(join(parent, 'svc', 'Dockerfile'), 'FROM scratch\n');
    const { exitCode, stdout } = await runCli(['svc', '--force'], { cwd: parent });
    expect(exitCode).toBe(0);
    expect(await readFile(join(parent, 'svc', 'NOTES.txt'), 'utf8')).toBe('mine\n');
    expect(await readFile(join(parent, 'svc', 'Dockerfile'), 'utf8')).toContain('distroless');
    expect(stdout).toContain('replacing 1: Dockerfile');
  });

  it('--install runs npm install in the new service (on the Node line the service targets)', async () => {
    const parent = await tempDir();
    const { exitCode, stdout } = await runCli(['svc', '--install'], { cwd: parent, env: { PATH: env26.PATH } });
    expect(exitCode).toBe(0);
    expect(stdout).toContain('• install: npm install');
    expect(existsSync(join(parent, 'svc', 'node_modules', 'fastify', 'package.json'))).toBe(true);
    // The next steps no longer tell the user to install.
    expect(stdout).not.toMatch(/Next steps:[\s\S]*npm install/);
  });

  it('--git makes a repository with one commit of every file', async () => {
    const parent = await tempDir();
    const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    const { exitCode } = await runCli(['svc', '--git'], { cwd: parent, env });
    expect(exitCode).toBe(0);
    const dir = join(parent, 'svc');
    const { stdout: tracked } = await execa('git', ['ls-files'], { cwd: dir });
    expect(tracked.split('\n').sort()).toEqual(await listTree(dir).then((f) => f.filter((p) => !p.startsWith('.git/'))));
    const { stdout: status } = await execa('git', ['status', '--porcelain'], { cwd: dir });
    expect(status).toBe('');
  });
});
