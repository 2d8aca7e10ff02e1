import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { DockerfileParser } from 'dockerfile-ast';
import { podman, type StandinImages } from './container-podman.js';

/**
 * Marks the images the tests build. Each rebuild of a changed service leaves its previous image untagged; the
 * tests never prune (a prune while another test file builds can remove a layer that build is looking up), so
 * clean up by hand: `podman image prune --filter label=chs.test=image-e2e`.
 */
const TEST_IMAGE_LABEL = 'chs.test=image-e2e';

/**
 * The emitted Dockerfile with only the image reference of each FROM replaced: the first stage's by the build
 * stand-in, the last stage's by the runtime stand-in. Anything else would no longer test the emitted file.
 */
export function withStandinBases(dockerfile: string, images: StandinImages): string {
  const froms = DockerfileParser.parse(dockerfile).getFROMs();
  if (froms.length !== 2) throw new Error(`expected two stages, found ${froms.length} FROM lines`);
  const lines = dockerfile.split('\n');
  // From the last, so that the ranges of earlier ones stay valid.
  for (const [from, ref] of [
    [froms[1]!, images.runtime],
    [froms[0]!, images.build],
  ] as const) {
    const range = from.getImageRange()!;
    const line = lines[range.start.line]!;
    lines[range.start.line] = line.slice(0, range.start.character) + ref + line.slice(range.end.character);
  }
  return lines.join('\n');
}

/**
 * The CA certificates this machine trusts beyond Node's built-in store (a TLS-inspecting proxy's, for one), as
 * PEM: what the host's npm trusts through NODE_EXTRA_CA_CERTS or the system bundle, and a container's Node
 * does not. Empty when there are none.
 */
export function hostExtraCaCerts(): string {
  const builtIn = new Set(rootCertificates.map((pem) => new X509Certificate(pem).fingerprint256));
  const bundles = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'].filter((f): f is string => !!f && existsSync(f));
  const extra = new Map<string, string>();
  for (const bundle of bundles) {
    for (const pem of readFileSync(bundle, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      const { fingerprint256 } = new X509Certificate(pem);
      if (!builtIn.has(fingerprint256)) extra.set(fingerprint256, `${pem}\n`);
    }
  }
  return [...extra.values()].join('');
}

/** `podman build` of a Dockerfile text (kept outside the context) with the given flags; returns its log. */
export async function buildImage(options: { context: string; dockerfile: string; tag: string; flags: string[]; target?: string; timeout?: number }) {
  const dir = await mkdtemp(join(tmpdir(), 'chs-dockerfile-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), options.dockerfile);
    const target = options.target ? ['--target', options.target] : [];
    const started = Date.now();
    const result = await podman(
      ['build', '--pull=never', ...options.flags, ...target, '--label', TEST_IMAGE_LABEL, '-f', join(dir, 'Dockerfile'), '-t', options.tag, options.context],
      { timeout: options.timeout ?? 20 * 60_000 },
    );
    return { seconds: (Date.now() - started) / 1000, log: result.all };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ImageConfig {
  User: string;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  Env: string[];
  WorkingDir: string;
  Labels: Record<string, string> | null;
}

export interface Healthcheck {
  Test: string[];
  Retries: number;
}

/** The image's configuration, HEALTHCHECK (kept only in the docker format) and size, as podman stores them. */
export async function inspectImage(ref: string): Promise<{ config: ImageConfig; healthcheck?: Healthcheck; size: number }> {
  const [image] = JSON.parse((await podman(['image', 'inspect', ref])).stdout) as { Config: ImageConfig; Healthcheck?: Healthcheck; Size: number }[];
  return { config: image!.Config, healthcheck: image!.Healthcheck, size: image!.Size };
}

/**
 * Runs a Node script inside the image (as `user`, with the image's own Node) and parses the JSON it prints. The
 * root filesystem stays writable so that permissions, not a read-only mount, decide what can be written.
 */
export async function nodeInImage<T>(ref: string, script: string, { user, node = '/nodejs/bin/node' }: { user: string; node?: string }): Promise<T> {
  const { stdout } = await podman(['run', '--rm', '--pull=never', '--network=none', '--user', user, '--entrypoint', node, ref, '-e', script]);
  return JSON.parse(stdout) as T;
}

interface LockedPackage {
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

/** Whether npm installs a package with these os/cpu/libc constraints on linux-x64 glibc (the images). */
function installsHere(pkg: LockedPackage): boolean {
  const fits = (list: string[] | undefined, value: string) =>
    !list || list.includes(value) || (list.every((v) => v.startsWith('!')) && !list.includes(`!${value}`));
  return fits(pkg.os, 'linux') && fits(pkg.cpu, 'x64') && fits(pkg.libc, 'glibc');
}

/**
 * Differences between the packages under /app/node_modules and what `npm ci --omit=dev` installs from the
 * lockfile on linux-x64: `extra: <path>` for a package that should not be there (a dev dependency), `missing:
 * <path>` for one that should.
 */
export async function productionDependencyProblems(ref: string, packageLock: string): Promise<string[]> {
  const packages: Record<string, LockedPackage> = JSON.parse(packageLock).packages;
  const expected = Object.entries(packages)
    .filter(([path, pkg]) => path !== '' && !pkg.dev && (!pkg.optional || installsHere(pkg)))
    .map(([path]) => path);
  const found = await nodeInImage<string[]>(
    ref,
    `const fs = require('node:fs');
     const found = [];
     const visit = (dir, rel) => {
       found.push(fs.existsSync(dir + '/package.json') ? rel : rel + ' (no package.json)');
       if (fs.existsSync(dir + '/node_modules')) list(dir + '/node_modules', rel + '/node_modules');
     };
     const list = (dir, rel) => {
       for (const name of fs.readdirSync(dir)) {
         if (name.startsWith('.')) continue;
         if (name.startsWith('@')) for (const sub of fs.readdirSync(dir + '/' + name)) visit(dir + '/' + name + '/' + sub, rel + '/' + name + '/' + sub);
         else visit(dir + '/' + name, rel + '/' + name);
       }
     };
     list('/app/node_modules', 'node_modules');
     console.log(JSON.stringify(found));`,
    { user: '0:0' },
  );
  return [
    ...found.filter((p) => !expected.includes(p)).map((p) => `extra: ${p}`),
    ...expected.filter((p) => !found.includes(p)).map((p) => `missing: ${p}`),
  ].sort();
}

/**
 * Files that must never be in the final image: anything in /app but dist/, node_modules/ and package.json;
 * TypeScript sources or tests in dist/; and anywhere, dotenv files, .npmrc, .git, lockfiles, private keys and
 * PEM files outside the CA certificate folders.
 */
export async function forbiddenFiles(ref: string): Promise<string[]> {
  return nodeInImage<string[]>(
    ref,
    `const fs = require('node:fs');
     const bad = [];
     for (const name of fs.readdirSync('/app')) if (!['dist', 'node_modules', 'package.json'].includes(name)) bad.push('/app/' + name);
     const walk = (dir) => {
       for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
         const path = (dir === '/' ? '' : dir) + '/' + e.name;
         if (['/proc', '/sys', '/dev'].includes(path)) continue;
         const n = e.name;
         if (n === '.env' || n.startsWith('.env.') || ['.npmrc', '.git', 'package-lock.json', 'npm-shrinkwrap.json', 'id_rsa', 'id_ed25519'].includes(n)
           || n.endsWith('.key') || (n.endsWith('.pem') && !path.startsWith('/etc/ssl/') && !path.startsWith('/usr/share/ca-certificates/'))
           || (path.startsWith('/app/dist/') && (/\\.tsx?$/.test(n) || /\\.(test|spec)\\.js$/.test(n)))) bad.push(path);
         if (e.isDirectory()) walk(path);
       }
     };
     walk('/');
     console.log(JSON.stringify(bad));`,
    { user: '0:0' },
  );
}

/**
 * Each file or folder under /app that is not root-owned, is writable by its group or others, or (code: dist/,
 * node_modules/, package.json) is not group `gid`, not group-readable or readable by others; with owner and mode.
 * The folders WORKDIR and COPY create (/app, /app/dist, /app/node_modules) are only held to the first two.
 */
export async function codeModeProblems(ref: string, gid: number): Promise<string[]> {
  return nodeInImage<string[]>(
    ref,
    `const fs = require('node:fs');
     const created = ['/app', '/app/dist', '/app/node_modules'];
     const bad = [];
     const check = (path) => {
       const s = fs.lstatSync(path);
       if (s.isSymbolicLink()) return;
       const mode = s.mode & 0o7777;
       const code = !created.includes(path);
       if (s.uid !== 0 || (mode & 0o022) !== 0 || (code && (s.gid !== ${gid} || (mode & 0o004) !== 0 || (mode & 0o040) === 0))) {
         bad.push(path + ' ' + s.uid + ':' + s.gid + ' ' + mode.toString(8));
       }
       if (s.isDirectory()) for (const name of fs.readdirSync(path)) check(path + '/' + name);
     };
     check('/app');
     console.log(JSON.stringify(bad));`,
    { user: '0:0' },
  );
}
