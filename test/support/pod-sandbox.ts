import { existsSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { node26, npm } from './node-lines.js';

/** The uid and gid of distroless `nonroot`: the chart's runAsUser and runAsGroup. */
export const RUNTIME_UID = 65532;

export interface PodSandbox {
  /** The service as the image holds it (package.json, production node_modules, dist/): mounted read-only at the same path. */
  app: string;
  /** Host folders mounted read-only under /run, as Kubernetes mounts Secrets and ConfigMaps: `{ '/run/secrets': dir }`. */
  mounts: Record<string, string>;
  /** The container's environment (the chart's `env`), on top of PATH. */
  env?: Record<string, string>;
}

/**
 * bubblewrap arguments that run a command as the pod runs the service: uid/gid 65532, the root filesystem
 * read-only with only /tmp writable, Node as PID 1 with no init, mounts read-only under /run, a clean environment.
 * The network is the host's, so loopback servers are reachable as the cluster's would be through the
 * NetworkPolicy.
 */
export function podSandboxArgs({ app, mounts, env = {} }: PodSandbox): string[] {
  return [
    '--ro-bind', '/', '/',
    '--tmpfs', '/tmp',
    '--dev', '/dev',
    '--proc', '/proc',
    '--unshare-user', '--uid', String(RUNTIME_UID), '--gid', String(RUNTIME_UID),
    // Node is PID 1, as in the distroless container: no init forwards or handles signals for it.
    '--unshare-pid', '--as-pid-1',
    '--die-with-parent',
    // Mount points need a tmpfs under them, itself made read-only afterwards.
    '--tmpfs', '/run',
    ...Object.entries(mounts).flatMap(([target, source]) => ['--ro-bind', source, target]),
    '--remount-ro', '/run',
    // The service itself (under the host's /tmp, which the sandbox's own /tmp hides), read-only.
    '--ro-bind', app, app,
    // Node 26 from .tools/: visible even when the checkout itself is under /tmp (as a CI clone may be).
    '--ro-bind', dirname(node26), dirname(node26),
    '--chdir', app,
    '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin',
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
  ];
}

/**
 * What the image's final stage holds, assembled in `app` from a built service `svc`: package.json, production
 * node_modules, dist/ and, with a database, migrations/. Resolves to `app`.
 */
export async function imageFiles(svc: string, app: string): Promise<string> {
  await mkdir(app);
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) await cp(join(svc, file), join(app, file));
  await npm(['ci', '--omit=dev', '--ignore-scripts'], app);
  await rm(join(app, 'package-lock.json'));
  await rm(join(app, '.npmrc'));
  if (!existsSync(join(svc, 'dist', 'server.js'))) await npm(['run', 'build'], svc, 120_000);
  await cp(join(svc, 'dist'), join(app, 'dist'), { recursive: true });
  if (existsSync(join(svc, 'migrations'))) await cp(join(svc, 'migrations'), join(app, 'migrations'), { recursive: true });
  return app;
}
