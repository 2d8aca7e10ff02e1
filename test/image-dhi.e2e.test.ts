/**
 * --base dhi: the emitted Dockerfile built and run with podman on stand-ins of the Docker Hardened Images
 * (scripts/build-image-standins.mjs dhi-<major>, following data/base-images.json "dhi"), with only its FROM image
 * references replaced and the README's podman flags, then run as the chart's Deployment runs the pod.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../core/package-root.js';
import { versions } from '../core/versions.js';
import { buildImage, inspectImage, withStandinBases } from './support/container-image.js';
import { httpStatus, podmanRunOptions, podRunFromChart, startContainer, writeSecretFiles } from './support/container-pod.js';
import { podman, podmanSkipReason, standinImages } from './support/container-podman.js';
import { checkoutWithBait, extraCaFile, readmePodmanBuildFlags, type ServiceCheckout } from './support/container-service.js';

const skip = podmanSkipReason();
const dhi = JSON.parse(readFileSync(join(packageRoot, 'data', 'base-images.json'), 'utf8')).dhi;
const MAJOR = versions.node.defaultMajor;
const timeout = 25 * 60_000;

describe.skipIf(skip)(`--base dhi: emitted image on Docker Hardened Images stand-ins${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let checkout: ServiceCheckout;
  let image: string;
  let caDir: string;

  beforeAll(async () => {
    const images = (await standinImages([`dhi-${MAJOR}`]))[`dhi-${MAJOR}`]!;
    const ca = await extraCaFile();
    caDir = dirname(ca.path);
    checkout = await checkoutWithBait({ base: 'dhi', nodeVersion: String(MAJOR) });
    image = `localhost/chs-test/img-svc:dhi-node${MAJOR}`;
    const dockerfile = withStandinBases(checkout.text('Dockerfile'), images);
    const { seconds } = await buildImage({ context: checkout.dir, dockerfile, tag: image, flags: readmePodmanBuildFlags(checkout.text('README.md'), ca.path) });
    console.log(`image dhi-node${MAJOR}: built in ${seconds.toFixed(0)} s`);
  }, timeout);
  afterAll(async () => {
    if (checkout) await rm(dirname(checkout.dir), { recursive: true, force: true });
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it("runs as DHI's node user (numeric), with no entrypoint: the command names node, as the catalog's image needs", async () => {
    const { config, healthcheck } = await inspectImage(image);
    const uid = dhi.runtime.user.uid;
    expect(config.User).toBe(`${uid}:${uid}`);
    expect(config.Entrypoint ?? []).toEqual(dhi.runtime.entrypoint);
    expect(config.Cmd).toEqual([...dhi.runtime.cmd, 'dist/server.js']);
    expect(healthcheck?.Test?.slice(0, 2)).toEqual(['CMD', dhi.runtime.cmd[0]]);
  }, timeout);

  it('answers /healthz as the chart runs the pod (read-only root, the chart uid 1000), and its HEALTHCHECK passes', async () => {
    const pod = await podRunFromChart(checkout.dir);
    expect(pod).toMatchObject({ runAsUser: dhi.runtime.user.uid, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const secrets = await writeSecretFiles(pod, { 'db-password': 'dhi-e2e\n' });
    const name = `chs-img-dhi-${process.pid}`;
    const container = await startContainer(image, name, podmanRunOptions(pod, secrets), pod);
    try {
      expect(await httpStatus(`${container.base}/healthz`)).toBe(200);
      expect(await httpStatus(`${container.base}${pod.readinessPath}`)).toBe(200);
      const { healthcheck: declared } = await inspectImage(image);
      let run = await podman(['healthcheck', 'run', name], { reject: false });
      for (let failures = 1; run.exitCode !== 0 && failures < declared!.Retries; failures += 1) run = await podman(['healthcheck', 'run', name], { reject: false });
      expect(run.exitCode, run.all).toBe(0);
    } finally {
      await container.remove();
      await rm(secrets, { recursive: true, force: true });
    }
  }, timeout);

  it('has no shell', async () => {
    for (const shell of ['sh', '/bin/sh', '/bin/bash']) {
      const result = await podman(['run', '--rm', '--pull=never', '--network=none', '--entrypoint', shell, image, '-c', 'true'], { reject: false });
      expect(result.exitCode, shell).not.toBe(0);
    }
  }, timeout);
});
