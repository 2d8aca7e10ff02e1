import { execa } from 'execa';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';

/**
 * podman as the image tests run it: rootful, with runc and the ulimits this kind of machine needs, both set in
 * the containers.conf that scripts/build-image-standins.mjs writes (see shared/design/toolchain.md).
 */
const standinsScript = join(packageRoot, 'scripts', 'build-image-standins.mjs');
const containersConf = join(packageRoot, '.tools', 'image-standins', 'containers.conf');

/**
 * Why the image tests cannot run here, or undefined when they can. Only a machine that cannot run rootful podman
 * skips them; a root machine without podman fails them (scripts/build-image-standins.mjs names the packages).
 */
export function podmanSkipReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the stand-in base images are linux/x64 and this is ${process.platform}/${process.arch}`;
  }
  if (process.getuid?.() !== 0) {
    return `rootful podman needs root and this is uid ${process.getuid?.()}; CI runs as root, where these tests run`;
  }
  return undefined;
}

export interface PodmanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  all: string;
}

/** Runs podman; throws with its output when it fails, unless `reject: false`. */
export async function podman(args: string[], { reject = true, timeout = 600_000 } = {}): Promise<PodmanResult> {
  const result = await execa('podman', args, {
    env: { ...process.env, CONTAINERS_CONF: containersConf },
    all: true,
    reject: false,
    timeout,
    stdin: 'ignore',
  });
  const out = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), all: String(result.all) };
  if (reject && out.exitCode !== 0) throw new Error(`podman ${args.join(' ')} exited ${out.exitCode}:\n${out.all}`);
  return out;
}

/** The base images of the emitted Dockerfile, as local stand-ins for one Node line. */
export interface StandinImages {
  build: string;
  runtime: string;
}

/** Builds the stand-ins of these Node lines, or finds them cached (scripts/build-image-standins.mjs). */
export async function standinImages(majors: (number | string)[]): Promise<Record<string, StandinImages>> {
  const result = await execa('node', [standinsScript, ...majors.map(String)], { all: true, reject: false, timeout: 30 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`build-image-standins failed:\n${result.all}`);
  return JSON.parse(String(result.stdout).trim().split('\n').at(-1)!);
}

/** At most `limit` calls of `fn` at once: image builds share two cores. */
export function limitConcurrency(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    // A finishing call hands its slot to the next waiting one.
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
