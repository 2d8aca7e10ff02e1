/**
 * The emitted Dockerfile built for linux/arm64 and run under emulation (Debian's qemu-user-static), as the pipeline's
 * build on a native arm64 runner makes it. Its base images are manifest lists of amd64 and arm64 stand-ins
 * (scripts/build-image-standins.mjs multiarch-<major>, following data/base-images.json "architectures"), so that
 * `--platform linux/arm64` picks the arm64 image of each as it does from the real indexes; only the FROM image
 * references are replaced and the build takes the README's podman flags. The image then runs as the chart's
 * Deployment runs the pod.
 *
 * Not part of `npm test`: emulation makes it slow (numbers in CONTRIBUTING.md). `npm run test:arm64` runs it, and so
 * does .ci/run after `npm test`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/package-root.js';
import { versions } from '../../core/versions.js';
import { buildImage, inspectImage, nodeInImage, withStandinBases } from '../support/container-image.js';
import { exitCode, httpStatus, podmanRunOptions, podRunFromChart, startContainer, writeSecretFiles } from '../support/container-pod.js';
import { podman, podmanSkipReason, standinImages, type StandinImages } from '../support/container-podman.js';
import { checkoutWithBait, extraCaFile, readmePodmanBuildFlags, type ServiceCheckout } from '../support/container-service.js';

const skip = podmanSkipReason();
const data = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8'));
const architectures = data.architectures;
const arm64 = architectures.arm64;
const MAJOR = versions.node.defaultMajor;
const APP_UID = 65532;
const timeout = 60 * 60_000;

/** The OS and architecture of an image in podman's store, as `os/architecture` (podman 4.3 shows no variant). */
async function platformOf(ref: string): Promise<string> {
  return (await podman(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ref])).stdout.trim();
}
const withoutVariant = (platform: string) => platform.split('/').slice(0, 2).join('/');

/** What `file` says of an image's /nodejs/bin/node, copied out to the host: the architecture it was built for. */
async function describeNode(ref: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chs-arm64-node-'));
  const name = `chs-arm64-file-${process.pid}`;
  try {
    await podman(['create', '--pull=never', '--name', name, ref]);
    await podman(['cp', `${name}:/nodejs/bin/node`, join(dir, 'node')]);
    return (await execa('file', ['-b', join(dir, 'node')])).stdout;
  } finally {
    await podman(['rm', '--force', name], { reject: false });
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(skip)(`linux/arm64: the emitted image built and run under emulation${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let standins: StandinImages & { platforms: Record<string, StandinImages> };
  let checkout: ServiceCheckout;
  let image: string;
  let caDir: string;

  beforeAll(async () => {
    // A root machine that cannot emulate arm64 fails here (the stand-in builder says what to run), as one without
    // podman does: CI must prove it.
    let started = Date.now();
    standins = (await standinImages([`multiarch-${MAJOR}`]))[`multiarch-${MAJOR}`] as typeof standins;
    console.log(`arm64 stand-ins for Node ${MAJOR}: ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const ca = await extraCaFile();
    caDir = dirname(ca.path);
    checkout = await checkoutWithBait({ framework: 'fastify', nodeVersion: String(MAJOR) });
    image = `localhost/chs-test/img-svc:node${MAJOR}-fastify-arm64`;
    const dockerfile = withStandinBases(checkout.text('Dockerfile'), standins);
    const flags = [...readmePodmanBuildFlags(checkout.text('README.md'), ca.path), '--platform', 'linux/arm64'];
    started = Date.now();
    await buildImage({ context: checkout.dir, dockerfile, tag: image, flags, timeout });
    console.log(`image node${MAJOR}-fastify for linux/arm64: built under emulation in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, timeout);
  afterAll(async () => {
    if (checkout) await rm(dirname(checkout.dir), { recursive: true, force: true });
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it('builds on one name per base image that holds an amd64 and an arm64 image, as the real indexes do', async () => {
    expect(architectures.buildIndex.platforms).toEqual(expect.arrayContaining([architectures.amd64.platform, arm64.platform]));
    expect(architectures.runtimeIndex.platforms[MAJOR]).toEqual(expect.arrayContaining([architectures.amd64.platform, arm64.platform]));
    for (const list of [standins.build, standins.runtime]) {
      const { manifests } = JSON.parse((await podman(['manifest', 'inspect', list])).stdout) as { manifests: { platform: { os: string; architecture: string; variant?: string } }[] };
      const platforms = manifests.map(({ platform: p }) => [p.os, p.architecture, p.variant].filter(Boolean).join('/'));
      expect(platforms.sort(), list).toEqual([architectures.amd64.platform, arm64.platform].sort());
    }
    for (const [platform, images] of Object.entries(standins.platforms)) {
      expect(await platformOf(images.build), images.build).toBe(withoutVariant(platform));
      expect(await platformOf(images.runtime), images.runtime).toBe(withoutVariant(platform));
    }
  }, timeout);

  it("the arm64 stand-ins hold what the amd64 ones hold, with arm64's packages, Node release and OpenSSL headers", async () => {
    const arm = standins.platforms[arm64.platform]!;
    const amd = standins.platforms[architectures.amd64.platform]!;
    const build = data.build;
    const line = build.lines[MAJOR];
    const buildFacts = await nodeInImage<Record<string, unknown>>(
      arm.build,
      `const fs = require('node:fs');
       console.log(JSON.stringify({ arch: process.arch, version: process.version, execPath: process.execPath,
         opensslArchs: fs.readdirSync('${build.nodePrefix}/include/node/openssl/archs') }));`,
      { user: '0:0', node: `${build.nodePrefix}/bin/node` },
    );
    expect(buildFacts).toEqual({ arch: 'arm64', version: `v${line.nodeVersion}`, execPath: `${build.nodePrefix}/bin/node`, opensslArchs: [arm64.opensslArch] });
    const inBuild = async (...command: string[]) =>
      (await podman(['run', '--rm', '--pull=never', '--network=none', '--entrypoint', command[0]!, arm.build, ...command.slice(1)])).stdout.trim();
    expect(await inBuild('npm', '--version')).toBe(line.npmVersion);
    expect(await inBuild('dpkg', '--print-architecture')).toBe(arm64.debianArch);

    // The runtime: distroless's files for every architecture are the same list; only the packages' builds differ.
    const runtimeProbe = `const fs = require('node:fs');
       const dir = '/var/lib/dpkg/status.d';
       console.log(JSON.stringify({ arch: process.arch, version: process.version, uid: process.getuid(), loader: fs.existsSync('${arm64.loader}'),
         packages: Object.fromEntries(fs.readdirSync(dir).sort().map((p) => [p, /^Architecture: (\\S+)$/m.exec(fs.readFileSync(dir + '/' + p, 'utf8'))[1]])) }));`;
    const armRuntime = await nodeInImage<{ packages: Record<string, string> }>(arm.runtime, runtimeProbe, { user: data.runtime.user });
    const amdRuntime = await nodeInImage<{ packages: Record<string, string> }>(amd.runtime, runtimeProbe, { user: data.runtime.user });
    expect(armRuntime).toMatchObject({ arch: 'arm64', version: `v${data.runtime.lines[MAJOR].nodeVersion}`, uid: Number(data.runtime.user), loader: true });
    expect(Object.keys(armRuntime.packages)).toEqual(Object.keys(amdRuntime.packages));
    for (const [pkg, arch] of Object.entries(armRuntime.packages)) expect(arch, pkg).toBe(amdRuntime.packages[pkg] === 'all' ? 'all' : arm64.debianArch);
    for (const [key, ref] of [['build', arm.build], ['runtime', arm.runtime]] as const) {
      const { config } = await inspectImage(ref);
      const { config: native } = await inspectImage(amd[key]);
      expect({ ...config, Labels: null }, ref).toEqual({ ...native, Labels: null });
    }
  }, timeout);

  it('is an arm64 image whose node is an ARM aarch64 executable that finds its loader', async () => {
    expect(await platformOf(image)).toBe(withoutVariant(arm64.platform));
    const { config } = await inspectImage(image);
    expect(config.Entrypoint).toEqual(['/nodejs/bin/node']);
    const described = await describeNode(image);
    expect(described).toContain(`ELF 64-bit LSB executable, ${arm64.fileSays}`);
    expect(described).toContain(`interpreter ${arm64.loader}`);
    // Each runtime stand-in holds its own architecture's release.
    for (const arch of [architectures.amd64, arm64]) {
      const runtime = standins.platforms[arch.platform]!.runtime;
      expect(await describeNode(runtime), runtime).toMatch(new RegExp(`, ${arch.fileSays},.*, interpreter ${arch.loader},`));
    }
  }, timeout);

  it('runs under emulation as the chart runs the pod: /healthz 200 on the probe port and the app port, the app answers', async () => {
    const pod = await podRunFromChart(checkout.dir);
    expect(pod).toMatchObject({ runAsUser: APP_UID, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const probePort = Number(pod.env.find((e) => e.name === 'PROBE_PORT')!.value);
    const secrets = await writeSecretFiles(pod, { 'db-password': 'arm64-e2e\n' });
    const name = `chs-img-arm64-${process.pid}`;
    const started = Date.now();
    const container = await startContainer(image, name, [...podmanRunOptions(pod, secrets), '--publish', `127.0.0.1::${probePort}`], pod);
    try {
      const readySeconds = (Date.now() - started) / 1000;
      console.log(`arm64 image under emulation: ready in ${readySeconds.toFixed(1)} s (startup probe allows ${pod.startupSeconds} s)`);
      expect(readySeconds).toBeLessThan(pod.startupSeconds);
      const probes = `http://${(await podman(['port', name, String(probePort)])).stdout.trim().split('\n')[0]}`;
      expect(await httpStatus(`${probes}${pod.livenessPath}`)).toBe(200);
      expect(await httpStatus(`${probes}${pod.readinessPath}`)).toBe(200);
      expect(await httpStatus(`${container.base}/healthz`)).toBe(200);
      const hello = await fetch(`${container.base}/hello?name=arm64`);
      expect(hello.status).toBe(200);
      expect(await hello.json()).toEqual({ message: 'Hello, arm64!' });

      // Inside: Node runs as arm64, as the pod's user, on a read-only root.
      const inside = JSON.parse(
        (
          await podman([
            'exec', name, '/nodejs/bin/node', '-e',
            `const fs = require('node:fs');
             const write = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
             console.log(JSON.stringify({ arch: process.arch, uid: process.getuid(), root: write('/probe'), tmp: write('/tmp/probe') }));`,
          ])
        ).stdout,
      );
      expect(inside).toEqual({ arch: 'arm64', uid: APP_UID, root: 'EROFS', tmp: 'written' });

      // Not run here: the image's HEALTHCHECK, which the kubelet ignores (it asks the probe port, as above). Emulated, its
      // second Node needs about 170 MB beside the service's, over the pod's memory limit (CONTRIBUTING.md).
      console.log(`arm64 image under emulation: ${(await podman(['stats', '--no-stream', '--format', '{{.MemUsage}}', name])).stdout.trim()} in use`);

      // SIGTERM, as the kubelet stops the pod: the service drains and exits 0 within the grace period.
      const stopped = await podman(['stop', '--time', String(pod.terminationGracePeriodSeconds), name], { reject: false });
      expect(stopped.exitCode, stopped.all).toBe(0);
      expect(await exitCode(name)).toBe(0);
    } finally {
      await container.remove();
      await rm(secrets, { recursive: true, force: true });
    }
  }, timeout);
});
