import { chmod, chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versions } from '../../core/versions.js';
import { podman } from './container-podman.js';
import { helmTemplate, parseManifests } from './kubernetes.js';

/** What podman needs to run a container the way the chart's Deployment runs the pod. */
export interface PodRun {
  runAsUser: number;
  runAsGroup: number;
  fsGroup: number;
  readOnlyRootFilesystem: boolean;
  allowPrivilegeEscalation: boolean;
  capabilities: { drop: string[]; add: string[] };
  env: { name: string; value: string }[];
  memoryBytes: number;
  cpus: number;
  emptyDirs: { mountPath: string; sizeBytes: number }[];
  secret: { mountPath: string; defaultMode: number };
  containerPort: number;
  terminationGracePeriodSeconds: number;
  /** How long the startup probe lets the container take to answer: its period times its failure threshold. */
  startupSeconds: number;
  readinessPath: string;
  livenessPath: string;
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A Kubernetes quantity (`256Mi`, `1`, `500m`) as a number. */
export function quantity(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(value));
  if (!match) throw new Error(`unsupported quantity ${value}`);
  return match[2] === 'm' ? Number(match[1]) / 1000 : Number(match[1]) * UNITS[match[2] ?? '']!;
}

/**
 * Renders the service's chart with helm (default values, plus a Secret to mount: `secrets.existingSecret`) and
 * reads from its Deployment everything the container runtime has to reproduce.
 */
export async function podRunFromChart(serviceDir: string): Promise<PodRun> {
  const rendered = await helmTemplate(join(serviceDir, 'chart'), { secrets: { existingSecret: 'svc-secrets' } }, { kubeVersion: `${versions.kubernetes.minor}.0` });
  if (rendered.exitCode !== 0) throw new Error(`helm template failed:\n${rendered.stderr}`);
  const deployment = parseManifests(String(rendered.stdout)).find((o) => o.kind === 'Deployment');
  if (!deployment) throw new Error('the chart renders no Deployment');
  const pod = deployment.spec.template.spec;
  if (pod.containers.length !== 1) throw new Error(`expected one container, found ${pod.containers.length}`);
  const container = pod.containers[0];
  const security = { ...pod.securityContext, ...container.securityContext };
  const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
  const mounts: { name: string; mountPath: string }[] = container.volumeMounts;
  const secretMount = mounts.find((m) => volumes.get(m.name)?.secret);
  if (!secretMount) throw new Error('the Deployment mounts no Secret although secrets.existingSecret is set');
  const envValues = container.env.map((e: any) => {
    if (typeof e.value !== 'string') throw new Error(`env ${e.name} is not a plain value`);
    return { name: e.name, value: e.value };
  });
  return {
    runAsUser: security.runAsUser,
    runAsGroup: security.runAsGroup,
    fsGroup: pod.securityContext.fsGroup,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem === true,
    allowPrivilegeEscalation: security.allowPrivilegeEscalation !== false,
    capabilities: { drop: security.capabilities?.drop ?? [], add: security.capabilities?.add ?? [] },
    env: envValues,
    memoryBytes: quantity(container.resources.limits.memory),
    cpus: quantity(container.resources.limits.cpu),
    emptyDirs: mounts
      .filter((m) => volumes.get(m.name)?.emptyDir)
      .map((m) => ({ mountPath: m.mountPath, sizeBytes: quantity(volumes.get(m.name).emptyDir.sizeLimit) })),
    secret: { mountPath: secretMount.mountPath, defaultMode: volumes.get(secretMount.name).secret.defaultMode },
    containerPort: container.ports.find((p: any) => p.name === 'http').containerPort,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
    startupSeconds: container.startupProbe.periodSeconds * container.startupProbe.failureThreshold,
    readinessPath: container.readinessProbe.httpGet.path,
    livenessPath: container.livenessProbe.httpGet.path,
  };
}

/**
 * `podman run` options for the pod: its user and fsGroup, read-only root with only the emptyDirs writable (tmpfs of
 * their size limit; no other tmpfs podman would add), capabilities, no-new-privileges, memory and CPU limits, the
 * Deployment's env, the Secret's files mounted read-only. Seccomp: podman's default profile, as RuntimeDefault.
 */
export function podmanRunOptions(pod: PodRun, secretDir: string): string[] {
  return [
    '--user', `${pod.runAsUser}:${pod.runAsGroup}`,
    '--group-add', String(pod.fsGroup),
    ...(pod.readOnlyRootFilesystem ? ['--read-only', '--read-only-tmpfs=false'] : []),
    ...pod.emptyDirs.flatMap((d) => ['--tmpfs', `${d.mountPath}:rw,size=${d.sizeBytes},mode=0777`]),
    ...pod.capabilities.drop.flatMap((c) => ['--cap-drop', c]),
    ...pod.capabilities.add.flatMap((c) => ['--cap-add', c]),
    ...(pod.allowPrivilegeEscalation ? [] : ['--security-opt', 'no-new-privileges']),
    '--memory', String(pod.memoryBytes),
    '--memory-swap', String(pod.memoryBytes),
    '--cpus', String(pod.cpus),
    ...pod.env.flatMap((e) => ['--env', `${e.name}=${e.value}`]),
    '--volume', `${secretDir}:${pod.secret.mountPath}:ro`,
    '--publish', `127.0.0.1::${pod.containerPort}`,
  ];
}

/** Secret files as the kubelet writes them: one per key, root-owned, group fsGroup, the volume's defaultMode. */
export async function writeSecretFiles(pod: PodRun, secrets: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chs-secrets-'));
  await chmod(dir, 0o755);
  for (const [name, value] of Object.entries(secrets)) {
    await writeFile(join(dir, name), value);
    await chown(join(dir, name), 0, pod.fsGroup);
    await chmod(join(dir, name), pod.secret.defaultMode);
  }
  return dir;
}

export async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export interface RunningPod {
  name: string;
  base: string;
  logs(): Promise<{ stdout: string; stderr: string }>;
  remove(): Promise<void>;
}

/** Starts the image with these options and waits until the readiness path answers 200, as long as the startup probe would. */
export async function startContainer(image: string, name: string, options: string[], pod: PodRun): Promise<RunningPod> {
  await podman(['run', '--detach', '--pull=never', '--name', name, ...options, image]);
  const remove = async () => void (await podman(['rm', '--force', '--time', '0', name], { reject: false }));
  const logs = async () => {
    const { stdout, stderr } = await podman(['logs', name], { reject: false });
    return { stdout, stderr };
  };
  try {
    const published = (await podman(['port', name, String(pod.containerPort)])).stdout.trim().split('\n')[0]!;
    const base = `http://${published}`;
    for (const deadline = Date.now() + pod.startupSeconds * 1000; (await httpStatus(`${base}${pod.readinessPath}`)) !== 200; ) {
      const state = (await podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout.trim();
      if (!state.startsWith('running') || Date.now() > deadline) {
        const out = await logs();
        throw new Error(`${name} never became ready (${state}):\n${out.stdout}${out.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { name, base, logs, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** The container's exit code, once it has stopped. */
export async function exitCode(name: string): Promise<number> {
  return Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).stdout.trim());
}
