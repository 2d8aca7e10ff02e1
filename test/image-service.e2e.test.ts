/**
 * The emitted Dockerfile built and run for real with podman, for each framework and every Node line: what a team's
 * first `docker build` meets (the .dockerignore, COPY paths, file modes, CMD, HEALTHCHECK), not only the service.
 * The base images are local stand-ins (scripts/build-image-standins.mjs, following data/base-images.json); the
 * Dockerfile is the emitted one with only its FROM image references replaced, built with the README's podman flags
 * from the emitted service (bait files beside it), and run as the chart's rendered Deployment runs the pod.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versions } from '../core/versions.js';
import {
  buildImage,
  codeModeProblems,
  forbiddenFiles,
  inspectImage,
  nodeInImage,
  productionDependencyProblems,
  withStandinBases,
} from './support/container-image.js';
import { exitCode, httpStatus, podmanRunOptions, podRunFromChart, startContainer, writeSecretFiles } from './support/container-pod.js';
import { limitConcurrency, podman, podmanSkipReason, standinImages, type StandinImages } from './support/container-podman.js';
import { BAIT_FILES, checkoutWithBait, extraCaFile, readmePodmanBuildFlags, type ServiceCheckout } from './support/container-service.js';

const skip = podmanSkipReason();
const APP_UID = 65532;
const cases = versions.node.lines.flatMap(({ major }) => (['fastify', 'express'] as const).map((framework) => ({ major, framework })));
type Case = (typeof cases)[number];

let ca: { path: string; pem: string };
/** Two builds at a time: npm ci and tsc share two cores with the rest of the suite. */
const buildSlot = limitConcurrency(2);

const standins = new Map<number, Promise<StandinImages>>();
/** A line's base-image stand-ins, built or found cached once; a line's images build as soon as its stand-ins exist. */
function standinsFor(major: number): Promise<StandinImages> {
  if (!standins.has(major)) standins.set(major, standinImages([major]).then((images) => images[major]!));
  return standins.get(major)!;
}

interface Built {
  checkout: ServiceCheckout;
  standins: StandinImages;
  dockerfile: string;
  image: string;
  buildStage: string;
}

const builds = new Map<string, Promise<Built>>();
/** Each case's image, built once for all its tests (which run concurrently). */
function built({ major, framework }: Case): Promise<Built> {
  const key = `node${major}-${framework}`;
  if (!builds.has(key)) {
    const build = async (images: StandinImages) => {
      const checkout = await checkoutWithBait({ framework, nodeVersion: String(major) });
      const dockerfile = withStandinBases(checkout.text('Dockerfile'), images);
      const flags = readmePodmanBuildFlags(checkout.text('README.md'), ca.path);
      const image = `localhost/chs-test/img-svc:${key}`;
      const { seconds } = await buildImage({ context: checkout.dir, dockerfile, tag: image, flags });
      // The build stage alone, from the layer cache: what the context put into the builder.
      const buildStage = `${image}-build-stage`;
      await buildImage({ context: checkout.dir, dockerfile, tag: buildStage, flags, target: 'build' });
      const { size } = await inspectImage(image);
      console.log(`image ${key}: built in ${seconds.toFixed(0)} s, ${(size / 1e6).toFixed(0)} MB`);
      return { checkout, standins: images, dockerfile, image, buildStage };
    };
    builds.set(key, standinsFor(major).then((images) => buildSlot(() => build(images))));
  }
  return builds.get(key)!;
}

describe.skipIf(skip)(`emitted image, built and run with podman${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    ca = await extraCaFile();
    // Start every build now: the cases' tests then wait only for their own image.
    for (const c of cases) built(c).catch(() => {});
  });
  afterAll(async () => {
    const done = await Promise.allSettled(builds.values());
    const dirs = done.flatMap((d) => (d.status === 'fulfilled' ? [dirname(d.value.checkout.dir)] : []));
    await Promise.all([...dirs, dirname(ca.path)].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  describe.concurrent.each(cases)('Node $major, $framework', (c) => {
    const timeout = 25 * 60_000;

    it('is built from the emitted Dockerfile with only the FROM image references replaced', async () => {
      const { checkout, dockerfile, standins: images } = await built(c);
      const emitted = checkout.text('Dockerfile').split('\n');
      const used = dockerfile.split('\n');
      expect(used.length).toBe(emitted.length);
      const differing = emitted.flatMap((line, i) => (line === used[i] ? [] : [[line, used[i]!] as const]));
      expect(differing.map(([a]) => a.replace(/^FROM \S+ AS (\w+)$/, 'FROM * AS $1'))).toEqual(['FROM * AS build', 'FROM * AS runtime']);
      expect(differing.map(([, b]) => b)).toEqual([`FROM ${images.build} AS build`, `FROM ${images.runtime} AS runtime`]);
    }, timeout);

    it("keeps the HEALTHCHECK with the README's podman flags, and a numeric non-root USER, node as entrypoint", async () => {
      const { checkout, image } = await built(c);
      expect(readmePodmanBuildFlags(checkout.text('README.md'), ca.path).join(' ')).toContain('--format docker');
      const { config, healthcheck } = await inspectImage(image);
      const declared = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(checkout.text('Dockerfile'))![1]!;
      expect(healthcheck?.Test).toEqual(['CMD', ...JSON.parse(declared)]);
      expect(config.User).toMatch(/^\d+(:\d+)?$/);
      expect(Number(config.User.split(':')[0])).not.toBe(0);
      expect(config.User).toBe(`${APP_UID}:${APP_UID}`);
      expect(config.Entrypoint).toEqual(['/nodejs/bin/node']);
      expect(config.Cmd).toEqual(['dist/server.js']);
    }, timeout);

    it('runs as the chart runs the pod: probes, headers, JSON logs, the secret, HEALTHCHECK, drain and stop', async () => {
      const { checkout, image } = await built(c);
      const pod = await podRunFromChart(checkout.dir);
      expect(pod).toMatchObject({ runAsUser: APP_UID, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      const secrets = await writeSecretFiles(pod, { 'db-password': 'image-e2e-secret-value\n' });
      const name = `chs-img-${c.major}-${c.framework}-${process.pid}`;
      const container = await startContainer(image, name, podmanRunOptions(pod, secrets), pod);
      try {
        expect(await httpStatus(`${container.base}${pod.livenessPath}`)).toBe(200);
        expect(await httpStatus(`${container.base}${pod.readinessPath}`)).toBe(200);
        const res = await fetch(`${container.base}/healthz`);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(res.headers.get('x-powered-by')).toBeNull();

        // Inside the running container: the pod's user and groups, only /tmp writable, the secret readable.
        const inside = JSON.parse(
          (
            await podman([
              'exec', name, '/nodejs/bin/node', '-e',
              `const fs = require('node:fs');
               const write = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
               console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
                 root: write('/probe'), app: write('/app/dist/probe.js'), secrets: write('${pod.secret.mountPath}/probe'), tmp: write('/tmp/probe'),
                 secret: fs.readFileSync('${pod.secret.mountPath}/db-password', 'utf8'),
                 tmpBytes: (({ blocks, bsize }) => blocks * bsize)(fs.statfsSync('/tmp')) }));`,
            ])
          ).stdout,
        );
        expect(inside).toMatchObject({ uid: APP_UID, gid: APP_UID, root: 'EROFS', app: 'EROFS', secrets: 'EROFS', tmp: 'written', secret: 'image-e2e-secret-value\n' });
        expect(inside.groups).toContain(pod.fsGroup);
        // /tmp is the emptyDir with its size limit; the memory limit is the container's.
        expect(inside.tmpBytes).toBe(pod.emptyDirs.find((d) => d.mountPath === '/tmp')!.sizeBytes);
        expect(Number((await podman(['inspect', '--format', '{{.HostConfig.Memory}}', name])).stdout.trim())).toBe(pod.memoryBytes);

        // As the engine judges it: unhealthy only after `Retries` failures in a row (one can time out on a busy host).
        const { healthcheck: declared } = await inspectImage(image);
        let healthcheck = await podman(['healthcheck', 'run', name], { reject: false });
        for (let failures = 1; healthcheck.exitCode !== 0 && failures < declared!.Retries; failures += 1) {
          healthcheck = await podman(['healthcheck', 'run', name], { reject: false });
        }
        expect(healthcheck.exitCode, healthcheck.all).toBe(0);

        // podman stop sends SIGTERM (node is PID 1), then waits the grace period before SIGKILL.
        const delayMs = Number(pod.env.find((e) => e.name === 'SHUTDOWN_DELAY_MS')!.value);
        const started = Date.now();
        const stopping = podman(['stop', '--time', String(pod.terminationGracePeriodSeconds), name], { reject: false });
        let readyz = 200;
        while (readyz !== 503 && Date.now() - started < delayMs) readyz = await httpStatus(`${container.base}${pod.readinessPath}`);
        expect(readyz).toBe(503);
        const stopped = await stopping;
        expect(stopped.exitCode, stopped.all).toBe(0);
        expect((Date.now() - started) / 1000).toBeLessThan(pod.terminationGracePeriodSeconds);
        expect(await exitCode(name)).toBe(0);

        const { stdout, stderr } = await container.logs();
        expect(stderr).toBe('');
        const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
        for (const line of lines) expect(line).toMatchObject({ level: expect.any(String), time: expect.stringMatching(/Z$/), msg: expect.any(String) });
        expect(lines.find((l) => l.msg === 'secret files found')?.secrets).toEqual(['db-password']);
        expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['listening', 'shutting down: readiness is now false', 'shutdown complete']));
        expect(stdout).not.toContain('image-e2e-secret-value');
      } finally {
        await container.remove();
        await rm(secrets, { recursive: true, force: true });
      }
    }, timeout);

    it('has no shell: --entrypoint sh fails', async () => {
      const { image } = await built(c);
      for (const shell of ['sh', '/bin/sh', '/bin/bash', '/busybox/sh']) {
        const result = await podman(['run', '--rm', '--pull=never', '--network=none', '--entrypoint', shell, image, '-c', 'true'], { reject: false });
        expect(result.exitCode, shell).not.toBe(0);
        expect(result.all, shell).toMatch(/no such file or directory|not found/);
      }
    }, timeout);

    it('holds production dependencies only, and no sources, tests, lockfile, .env, .npmrc, .git or keys', async () => {
      const { checkout, image } = await built(c);
      expect(await productionDependencyProblems(image, checkout.text('package-lock.json'))).toEqual([]);
      expect(await forbiddenFiles(image)).toEqual([]);
    }, timeout);

    it('its build stage never saw what the .dockerignore excludes (tests, docs, chart, bait files)', async () => {
      const { buildStage } = await built(c);
      const present = await nodeInImage<string[]>(
        buildStage,
        `const fs = require('node:fs');
         console.log(JSON.stringify(${JSON.stringify([...Object.keys(BAIT_FILES), 'test', 'README.md', 'chart', '.npmrc', 'Dockerfile'])}
           .filter((p) => fs.existsSync('/app/' + p))));`,
        { user: '0:0', node: '/usr/local/bin/node' },
      );
      expect(present).toEqual([]);
    }, timeout);

    it('its code is owned by root, readable by group 65532 only, writable by no one but root (SECURITY.md D09)', async () => {
      const { checkout, image } = await built(c);
      const d09 = checkout.text('SECURITY.md').split('\n').find((l) => l.startsWith('| D09 |'))!;
      expect(d09).toContain('Their group 65532 can read them and other users cannot; neither the service nor its group can write them.');
      expect(await codeModeProblems(image, APP_UID)).toEqual([]);
      const probe = `const fs = require('node:fs');
        const paths = [];
        const list = (p) => { try { return fs.readdirSync(p); } catch { return []; } };
        const walk = (p) => { paths.push(p); if (fs.lstatSync(p).isDirectory()) for (const n of list(p)) walk(p + '/' + n); };
        walk('/app');
        const can = (p, mode) => { try { fs.accessSync(p, mode); return true; } catch { return false; } };
        console.log(JSON.stringify({ writable: paths.filter((p) => can(p, fs.constants.W_OK)),
          readable: ['/app/package.json', '/app/dist/server.js'].filter((p) => can(p, fs.constants.R_OK)) }));`;
      // The app's user reads its code and can write none of it; another user cannot even read it.
      expect(await nodeInImage(image, probe, { user: `${APP_UID}:${APP_UID}` })).toEqual({ writable: [], readable: ['/app/package.json', '/app/dist/server.js'] });
      expect(await nodeInImage(image, probe, { user: '1000:1000' })).toEqual({ writable: [], readable: [] });
    }, timeout);
  });

  const defaultCase = () => built(cases.find((x) => x.major === versions.node.defaultMajor && x.framework === 'fastify')!);

  it("podman's default OCI format drops the HEALTHCHECK, as the README says: hence --format docker", async () => {
    const { checkout, image } = await defaultCase();
    expect(checkout.text('README.md')).toContain('With podman or buildah, build with `--format docker`: their default OCI format has no HEALTHCHECK and drops it.');
    // A build ends in a commit: committing the image's container in each format shows the difference (a second
    // build would not share the layer cache across formats).
    const name = `chs-img-commit-${process.pid}`;
    await podman(['create', '--pull=never', '--name', name, image]);
    try {
      for (const format of ['oci', 'docker']) await podman(['commit', '--quiet', '--format', format, name, `${image}-${format}`]);
    } finally {
      await podman(['rm', '--force', name], { reject: false });
    }
    expect((await inspectImage(`${image}-oci`)).healthcheck).toBeUndefined();
    expect((await inspectImage(`${image}-docker`)).healthcheck?.Test).toEqual((await inspectImage(image)).healthcheck?.Test);
    expect((await podman(['build', '--help'])).stdout).toMatch(/--format format [^\n]*\(default "oci"\)/);
  }, 25 * 60_000);

  it('the README build secret for a proxy CA reaches npm ci only: no layer of either stage holds it', async () => {
    const { checkout, image, buildStage } = await defaultCase();
    const readme = checkout.text('README.md');
    expect(readme).toContain('`extra_ca_certs`: it is mounted for the `npm ci` step only and no image layer keeps it');
    // docker's command takes the same secret flag as podman's, which the builds here use.
    const secretFlag = (tool: string) => / --secret \S+ /.exec(readme.split('\n').find((l) => l.startsWith(`${tool} build --`) && l.includes('--secret')) ?? '')?.[0];
    expect(secretFlag('docker')).toBe(secretFlag('podman'));
    const body = ca.pem.split('\n').find((l) => l.length === 64 && !l.startsWith('-----'))!;
    for (const ref of [image, buildStage]) {
      const archive = join(checkout.dir, '..', `${ref.replace(/\W/g, '-')}.tar`);
      await podman(['save', '--format', 'docker-archive', '-o', archive, ref]);
      expect((await readFile(archive)).includes(body), ref).toBe(false);
      const { config } = await inspectImage(ref);
      expect(config.Env.join('\n')).not.toMatch(/NODE_EXTRA_CA_CERTS/);
    }
  }, 25 * 60_000);
});
