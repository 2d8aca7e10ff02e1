/**
 * The image tests catch a broken Dockerfile: each case breaks the emitted Dockerfile the way a later edit could
 * (a CMD pointing at a missing file, a COPY of a path the .dockerignore excludes, a build that keeps dev
 * dependencies) and shows that the check the image tests rely on fails on it. Node 26 (the default line), Fastify.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versions } from '../core/versions.js';
import { buildImage, productionDependencyProblems, withStandinBases } from './support/container-image.js';
import { podmanRunOptions, podRunFromChart, startContainer, writeSecretFiles } from './support/container-pod.js';
import { podmanSkipReason, standinImages } from './support/container-podman.js';
import { checkoutWithBait, extraCaFile, readmePodmanBuildFlags, type ServiceCheckout } from './support/container-service.js';

const skip = podmanSkipReason();
const major = versions.node.defaultMajor;
let checkout: ServiceCheckout;
let dockerfile: string;
let flags: string[];
let caDir: string;

/** The emitted Dockerfile (bases replaced as in every image test) with one edit, which must apply. */
function broken(from: string | RegExp, to: string): string {
  const edited = dockerfile.replace(from, to);
  expect(edited, `the edit of ${from} applies`).not.toBe(dockerfile);
  return edited;
}

const build = (text: string, tag: string) => buildImage({ context: checkout.dir, dockerfile: text, tag: `localhost/chs-test/img-broken:${tag}`, flags });

describe.skipIf(skip)(`a broken Dockerfile fails the image tests${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    const standins = await standinImages([major]);
    checkout = await checkoutWithBait({ framework: 'fastify', nodeVersion: String(major) });
    dockerfile = withStandinBases(checkout.text('Dockerfile'), standins[major]!);
    const ca = await extraCaFile();
    caDir = dirname(ca.path);
    flags = readmePodmanBuildFlags(checkout.text('README.md'), ca.path);
  }, 30 * 60_000);
  afterAll(async () => {
    if (checkout) await rm(dirname(checkout.dir), { recursive: true, force: true });
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it('CMD pointing at a missing file: the container never becomes ready', async () => {
    const image = 'localhost/chs-test/img-broken:missing-cmd';
    await build(broken('CMD ["dist/server.js"]', 'CMD ["dist/missing.js"]'), 'missing-cmd');
    const pod = await podRunFromChart(checkout.dir);
    const secrets = await writeSecretFiles(pod, {});
    try {
      await expect(startContainer(image, `chs-img-broken-${process.pid}`, podmanRunOptions(pod, secrets), pod)).rejects.toThrow(
        /never became ready \(exited 1\)[\s\S]*Cannot find module '\/app\/dist\/missing\.js'/,
      );
    } finally {
      await rm(secrets, { recursive: true, force: true });
    }
  }, 20 * 60_000);

  it('COPY of a path the .dockerignore excludes: the build fails', async () => {
    await expect(build(broken('COPY src ./src\n', 'COPY src ./src\nCOPY README.md ./\n'), 'copy-ignored')).rejects.toThrow(
      /COPY README\.md[\s\S]*filtered out using [^\n]*\.dockerignore/,
    );
  }, 20 * 60_000);

  it('a build that keeps its dev dependencies: the production-dependency check names them', async () => {
    const image = 'localhost/chs-test/img-broken:dev-deps';
    await build(broken(' && npm prune --omit=dev --ignore-scripts', ''), 'dev-deps');
    const problems = await productionDependencyProblems(image, checkout.text('package-lock.json'));
    expect(problems).toEqual(expect.arrayContaining(['extra: node_modules/typescript', 'extra: node_modules/@types/node']));
  }, 20 * 60_000);
});
