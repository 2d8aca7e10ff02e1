/**
 * The local stand-ins for the emitted Dockerfile's base images (scripts/build-image-standins.mjs) hold what
 * data/base-images.json says the real images hold, as read from their upstream build files: the image tests are
 * only as good as this likeness.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../core/package-root.js';
import { versions } from '../core/versions.js';
import { inspectImage, nodeInImage } from './support/container-image.js';
import { podman, podmanSkipReason, standinImages, type StandinImages } from './support/container-podman.js';

const data = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8'));
const skip = podmanSkipReason();
let standins: Record<string, StandinImages>;

describe('data/base-images.json', () => {
  it('describes the base images of every Node line the generator offers', () => {
    for (const { major } of versions.node.lines) {
      expect(data.build.lines[major], `build ${major}`).toMatchObject({ nodeVersion: expect.stringMatching(new RegExp(`^${major}\\.`)) });
      expect(data.runtime.lines[major], `runtime ${major}`).toMatchObject({ nodeVersion: expect.stringMatching(new RegExp(`^${major}\\.`)) });
    }
  });

  it("agrees with versions.json on each build image's Node release (the pinned digest's NODE_VERSION)", () => {
    for (const line of versions.node.lines) {
      expect((line.build as { note?: string }).note).toContain(`NODE_VERSION=${data.build.lines[line.major].nodeVersion}`);
    }
  });
});

describe.skipIf(skip)(`base image stand-ins${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    standins = await standinImages(versions.node.lines.map((l) => l.major));
  }, 30 * 60_000);

  describe.each(versions.node.lines.map((l) => l.major))('Node %i', (major) => {
    it(`node:${major}-trixie-slim: the release and its npm in /usr/local, user node, Debian trixie`, async () => {
      const line = data.build.lines[major];
      const ref = standins[major]!.build;
      const { config } = await inspectImage(ref);
      expect(config.Env).toContain(`NODE_VERSION=${line.nodeVersion}`);
      expect(config.Cmd).toEqual(data.build.cmd);
      const { stdout: npmVersion } = await podman(['run', '--rm', '--pull=never', '--network=none', '--entrypoint', 'npm', ref, '--version']);
      expect(npmVersion.trim()).toBe(line.npmVersion);
      const facts = await nodeInImage<Record<string, unknown>>(
        ref,
        `const fs = require('node:fs');
         console.log(JSON.stringify({ version: process.version, execPath: process.execPath,
           passwd: fs.readFileSync('/etc/passwd', 'utf8').split('\\n').find((l) => l.startsWith('${data.build.user.name}:')),
           codename: /VERSION_CODENAME=(\\w+)/.exec(fs.readFileSync('/etc/os-release', 'utf8'))[1],
           opensslArchs: fs.readdirSync('${data.build.nodePrefix}/include/node/openssl/archs'),
           dpkg: fs.readFileSync('/var/lib/dpkg/status', 'utf8') }));`,
        { user: '0:0', node: `${data.build.nodePrefix}/bin/node` },
      );
      const { name, uid, gid, home, shell } = data.build.user;
      expect(facts).toMatchObject({
        version: `v${line.nodeVersion}`,
        execPath: `${data.build.nodePrefix}/bin/node`,
        passwd: `${name}:x:${uid}:${gid}::${home}:${shell}`,
        codename: data.debian.suite,
        opensslArchs: [data.architectures.amd64.opensslArch],
      });
      for (const pkg of line.packages) expect(facts.dpkg).toMatch(new RegExp(`^Package: ${pkg}\\nStatus: install ok installed$`, 'm'));
    });

    it(`gcr.io/distroless/nodejs${major}-debian13:nonroot: distroless's packages, users and folders, /nodejs/bin/node, no shell`, async () => {
      const rt = data.runtime;
      const ref = standins[major]!.runtime;
      const { config } = await inspectImage(ref);
      expect(config).toMatchObject({ User: rt.user, WorkingDir: rt.workdir, Entrypoint: rt.entrypoint });
      expect(config.Cmd ?? null).toBeNull();
      expect(config.Env).toEqual(expect.arrayContaining(rt.env));
      const facts = await nodeInImage<Record<string, unknown>>(
        ref,
        `const fs = require('node:fs');
         const stat = (p) => { const s = fs.statSync(p); return { path: p, mode: (s.mode & 0o7777).toString(8).padStart(4, '0'), uid: s.uid, gid: s.gid }; };
         console.log(JSON.stringify({ version: process.version, uid: process.getuid(), cwd: process.cwd(),
           passwd: fs.readFileSync('/etc/passwd', 'utf8'), group: fs.readFileSync('/etc/group', 'utf8'),
           dirs: ${JSON.stringify(rt.dirs.map((d: { path: string }) => d.path))}.map(stat),
           packages: fs.readdirSync('/var/lib/dpkg/status.d').sort(),
           nodeFiles: ${JSON.stringify(rt.nodeFiles)}.filter((p) => fs.existsSync(p)),
           absent: ${JSON.stringify(rt.absent)}.filter((p) => fs.existsSync(p)),
           caBundle: fs.readFileSync('${rt.caCertificates.bundle}', 'utf8').split('BEGIN CERTIFICATE').length - 1,
           osRelease: fs.readFileSync('/etc/os-release', 'utf8'), nsswitch: fs.readFileSync('/etc/nsswitch.conf', 'utf8') }));`,
        { user: rt.user },
      );
      const line = rt.lines[major];
      expect(facts).toMatchObject({
        version: `v${line.nodeVersion}`,
        uid: Number(rt.user),
        cwd: rt.workdir,
        passwd: rt.passwd.map((u: Record<string, unknown>) => `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}\n`).join(''),
        group: rt.group.map((g: Record<string, unknown>) => `${g.name}:x:${g.gid}:\n`).join(''),
        dirs: rt.dirs,
        packages: [...rt.packages, rt.caCertificates.package, ...line.packages].sort(),
        nodeFiles: rt.nodeFiles,
        absent: [],
      });
      expect(facts.caBundle).toBeGreaterThan(100);
      for (const [key, value] of Object.entries(rt.osRelease)) expect(facts.osRelease).toContain(`${key}="${value}"\n`);
      for (const [key, value] of Object.entries(rt.nsswitch)) expect(facts.nsswitch).toContain(`${key}: ${value}\n`);
    });
  });
});
