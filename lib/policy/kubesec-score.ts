/**
 * A kubesec-style risk score (after controlplaneio/kubesec's rule set) for one workload object.
 *
 * Positive rules add their points when EVERY container satisfies them (kubesec itself is content with one
 * container, which overrates pods with sidecars); negative rules subtract when ANY container or the pod
 * matches. Security contexts are read as the kubelet applies them: a container's own value, else the pod's.
 * Seccomp and AppArmor count from the securityContext fields (GA since 1.19 and 1.30) as well as kubesec's
 * legacy annotations.
 */

type Obj = Record<string, unknown>;

export interface KubesecRule {
  id: string;
  points: number;
  reason: string;
}

export interface KubesecScore {
  /** Sum of the points of every matched rule. */
  score: number;
  /** Sum of all positive rules: the best possible score. */
  maxScore: number;
  passed: KubesecRule[];
  /** Positive rules not met: what would raise the score. */
  advise: KubesecRule[];
  /** Negative rules matched. */
  critical: KubesecRule[];
}

interface Pod {
  metadata: Obj;
  spec: Obj;
  containers: Obj[];
}

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A container's effective security context field: its own, else the pod's. */
function effective(pod: Pod, c: Obj, field: string): unknown {
  const own = obj(c.securityContext)[field];
  return own !== undefined ? own : obj(pod.spec.securityContext)[field];
}

function resources(c: Obj, kind: 'requests' | 'limits', name: string): boolean {
  const v = obj(obj(c.resources)[kind])[name];
  return v !== undefined && v !== null && v !== '';
}

function annotationStartsWith(pod: Pod, prefix: string, ok: (v: string) => boolean): boolean {
  return Object.entries(obj(pod.metadata.annotations)).some(([k, v]) => k.startsWith(prefix) && ok(String(v)));
}

const confined = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';

const positiveRules: (KubesecRule & { test: (pod: Pod, c: Obj) => boolean })[] = [
  { id: 'ReadOnlyRootFilesystem', points: 1, reason: 'an immutable root filesystem stops binaries being added', test: (_p, c) => obj(c.securityContext).readOnlyRootFilesystem === true },
  { id: 'RunAsNonRoot', points: 1, reason: 'the image cannot run as root', test: (p, c) => effective(p, c, 'runAsNonRoot') === true },
  { id: 'RunAsUser', points: 1, reason: 'a high UID (> 10000) avoids clashing with host users', test: (p, c) => Number(effective(p, c, 'runAsUser')) > 10000 },
  { id: 'RunAsGroup', points: 1, reason: 'a high GID (> 10000) avoids clashing with host groups', test: (p, c) => Number(effective(p, c, 'runAsGroup')) > 10000 },
  { id: 'CapDropAny', points: 1, reason: 'dropping capabilities limits the attack surface', test: (_p, c) => arr(obj(obj(c.securityContext).capabilities).drop).length > 0 },
  { id: 'CapDropAll', points: 1, reason: 'drop all capabilities, add back only what is needed', test: (_p, c) => arr(obj(obj(c.securityContext).capabilities).drop).some((x) => String(x).toUpperCase() === 'ALL') },
  { id: 'RequestsCPU', points: 1, reason: 'CPU requests let the scheduler balance fairly', test: (_p, c) => resources(c, 'requests', 'cpu') },
  { id: 'LimitsCPU', points: 1, reason: 'CPU limits prevent denial of service by exhaustion', test: (_p, c) => resources(c, 'limits', 'cpu') },
  { id: 'RequestsMemory', points: 1, reason: 'memory requests let the scheduler balance fairly', test: (_p, c) => resources(c, 'requests', 'memory') },
  { id: 'LimitsMemory', points: 1, reason: 'memory limits prevent denial of service by exhaustion', test: (_p, c) => resources(c, 'limits', 'memory') },
  {
    id: 'SeccompAny',
    points: 1,
    reason: 'a seccomp profile filters system calls',
    test: (p, c) =>
      confined(obj(effective(p, c, 'seccompProfile')).type) ||
      annotationStartsWith(p, 'seccomp.security.alpha.kubernetes.io/pod', (v) => v !== 'unconfined') ||
      annotationStartsWith(p, 'container.seccomp.security.alpha.kubernetes.io/', (v) => v !== 'unconfined'),
  },
  {
    id: 'AutomountServiceAccountToken',
    points: 1,
    reason: 'no API token in the pod unless it needs one',
    test: (p) => p.spec.automountServiceAccountToken === false,
  },
  {
    id: 'ServiceAccountName',
    points: 3,
    reason: 'a dedicated service account can be given least privilege',
    test: (p) => typeof p.spec.serviceAccountName === 'string' && !['', 'default'].includes(p.spec.serviceAccountName),
  },
  {
    id: 'ApparmorAny',
    points: 3,
    reason: 'an AppArmor profile confines the process',
    test: (p, c) =>
      confined(obj(effective(p, c, 'appArmorProfile')).type) ||
      annotationStartsWith(p, 'container.apparmor.security.beta.kubernetes.io/', (v) => v !== 'unconfined' && v !== ''),
  },
];

const negativeRules: (KubesecRule & { test: (pod: Pod) => boolean })[] = [
  { id: 'Privileged', points: -30, reason: 'privileged containers have almost unrestricted host access', test: (p) => p.containers.some((c) => obj(c.securityContext).privileged === true) },
  { id: 'CapSysAdmin', points: -30, reason: 'CAP_SYS_ADMIN is nearly root', test: (p) => p.containers.some((c) => arr(obj(obj(c.securityContext).capabilities).add).some((x) => /^(CAP_)?SYS_ADMIN$/i.test(String(x)))) },
  { id: 'HostNetwork', points: -9, reason: "the host's network namespace", test: (p) => p.spec.hostNetwork === true },
  { id: 'HostPID', points: -9, reason: "the host's PID namespace", test: (p) => p.spec.hostPID === true },
  { id: 'HostIPC', points: -9, reason: "the host's IPC namespace", test: (p) => p.spec.hostIPC === true },
  { id: 'DockerSock', points: -9, reason: 'the container runtime socket allows breakout', test: (p) => arr(p.spec.volumes).some((v) => /docker\.sock|containerd\.sock|crio\.sock/.test(String(obj(obj(v).hostPath).path))) },
  { id: 'AllowPrivilegeEscalation', points: -7, reason: 'setuid binaries can gain privileges', test: (p) => p.containers.some((c) => obj(c.securityContext).allowPrivilegeEscalation === true) },
  { id: 'HostAliases', points: -3, reason: '/etc/hosts managed in the pod instead of by DNS', test: (p) => arr(p.spec.hostAliases).length > 0 },
  { id: 'SeccompUnconfined', points: -1, reason: 'an unconfined seccomp profile allows every system call', test: (p) => [obj(p.spec.securityContext), ...p.containers.map((c) => obj(c.securityContext))].some((sc) => obj(sc.seccompProfile).type === 'Unconfined') },
  { id: 'ApparmorUnconfined', points: -3, reason: 'an unconfined AppArmor profile', test: (p) => [obj(p.spec.securityContext), ...p.containers.map((c) => obj(c.securityContext))].some((sc) => obj(sc.appArmorProfile).type === 'Unconfined') || annotationStartsWith(p, 'container.apparmor.security.beta.kubernetes.io/', (v) => v === 'unconfined') },
];

export const kubesecMaxScore = positiveRules.reduce((sum, r) => sum + r.points, 0);

const POD_TEMPLATE_PATH: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Scores a workload object; undefined for kinds without a pod template. */
export function kubesecScore(object: unknown): KubesecScore | undefined {
  const kind = String(obj(object).kind);
  const path = POD_TEMPLATE_PATH[kind];
  if (!path) return undefined;
  let template: unknown = object;
  for (const key of path) template = obj(template)[key];
  const spec = obj(obj(template).spec);
  const pod: Pod = {
    metadata: obj(obj(template).metadata),
    spec,
    containers: [...arr(spec.containers), ...arr(spec.initContainers)].map(obj),
  };
  const strip = ({ id, points, reason }: KubesecRule) => ({ id, points, reason });
  const passed: KubesecRule[] = [];
  const advise: KubesecRule[] = [];
  for (const rule of positiveRules) {
    const ok = pod.containers.length > 0 && pod.containers.every((c) => rule.test(pod, c));
    (ok ? passed : advise).push(strip(rule));
  }
  const critical = negativeRules.filter((r) => r.test(pod)).map(strip);
  const score = [...passed, ...critical].reduce((sum, r) => sum + r.points, 0);
  return { score, maxScore: kubesecMaxScore, passed, advise, critical };
}
