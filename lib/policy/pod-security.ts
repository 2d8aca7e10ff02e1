import { parseAllDocuments } from 'yaml';

/**
 * Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards) as pure functions.
 *
 * Every control of the baseline and restricted profiles, with the fields and allowed values of the
 * Pod Security Admission controller (k8s.io/pod-security-admission, policy/check_*.go), including the
 * versions in which a control or an allowed value appeared. Give it a Pod, a pod template or any workload
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController, PodTemplate) and
 * a level; it returns what PSA would reject, one finding per offending field.
 *
 * Not modelled: PSA exemptions (users, runtime classes, namespaces), which are cluster configuration.
 */

export type PodSecurityLevel = 'baseline' | 'restricted';

export interface PodSecurityFinding {
  /** PSS control, e.g. `privileged`, `runAsNonRoot` (the PSA check id). */
  control: string;
  /** Field path from the checked object's root, e.g. `spec.template.spec.containers[0].securityContext.privileged`. */
  path: string;
  message: string;
}

/** A version as PSA labels spell it: `latest`, `v1.35` or `1.35`. */
export type PodSecurityVersion = string;

// Loose shapes: the checker works on parsed YAML, so every field may be missing or of the wrong type.
type Obj = Record<string, unknown>;
interface ContainerRef {
  container: Obj;
  path: string;
}
interface PodUnderCheck {
  metadata: Obj;
  spec: Obj;
  /** Path of the pod spec inside the checked object, e.g. `spec.template.spec`. */
  specPath: string;
  /** Path of the pod metadata (annotations live there). */
  metadataPath: string;
}

interface Version {
  major: number;
  minor: number;
}

type Found = Omit<PodSecurityFinding, 'control'>;
type CheckPod = (pod: PodUnderCheck) => Found[];

/** One behaviour of a control, in force from `since` until the control's next version (PSA's VersionedCheck). */
interface VersionedCheck {
  since: Version;
  check: CheckPod;
  /** Baseline controls this one replaces at restricted while it is in force (PSA's OverrideCheckIDs). */
  overrides?: string[];
}

interface Control {
  /** PSA's check id. */
  id: string;
  title: string;
  level: PodSecurityLevel;
  /** Oldest first. */
  versions: VersionedCheck[];
}

const LATEST: Version = { major: 1, minor: Number.MAX_SAFE_INTEGER };

export function parsePodSecurityVersion(version: PodSecurityVersion): Version {
  if (version === 'latest') return LATEST;
  const m = /^v?(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`pod security version "${version}" is not "latest" or v<major>.<minor>`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function atLeast(v: Version, since: Version): boolean {
  return v.major > since.major || (v.major === since.major && v.minor >= since.minor);
}
const v1 = (minor: number): Version => ({ major: 1, minor });

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
/** Go's "pointer is set": the field is present and not null. */
function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** PSA's visitContainers: init containers, containers, ephemeral containers. */
function containersOf(pod: PodUnderCheck): ContainerRef[] {
  const refs: ContainerRef[] = [];
  for (const kind of ['initContainers', 'containers', 'ephemeralContainers']) {
    arr(pod.spec[kind]).forEach((c, i) => refs.push({ container: obj(c), path: `${pod.specPath}.${kind}[${i}]` }));
  }
  return refs;
}

function containerName(c: ContainerRef): string {
  return typeof c.container.name === 'string' ? `container "${c.container.name}"` : 'container';
}

function podSC(pod: PodUnderCheck): Obj {
  return obj(pod.spec.securityContext);
}
function sc(c: ContainerRef): Obj {
  return obj(c.container.securityContext);
}

/** Windows pods (spec.os.name: windows): PSA admits them without the Linux-only restricted checks from 1.25 on. */
function isWindows(pod: PodUnderCheck): boolean {
  return obj(pod.spec.os).name === 'windows';
}
/** PSA's relaxPolicyForUserNamespacePod: the pod runs in a user namespace (hostUsers: false). */
function inUserNamespace(pod: PodUnderCheck): boolean {
  return pod.spec.hostUsers === false;
}
/** A versioned check that admits the pods `exempt` selects and runs `check` on the others. */
function unless(exempt: (pod: PodUnderCheck) => boolean, check: CheckPod): CheckPod {
  return (pod) => (exempt(pod) ? [] : check(pod));
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Safe sysctls, each set adding to the one before, by the minor that allowed them (PSA check_sysctls.go). */
const SYSCTLS_BY_VERSION: [number, string[]][] = [
  [0, ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start']],
  [27, ['net.ipv4.ip_local_reserved_ports']],
  [29, ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']],
  [32, ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']],
  [37, ['net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat']],
];

/** Inline volume sources the restricted profile allows (PSA check_restrictedVolumes.go). */
const RESTRICTED_VOLUME_SOURCES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

const windowsHostProcess: CheckPod = (pod) => {
  const found = [];
  if (obj(podSC(pod).windowsOptions).hostProcess === true)
    found.push({ path: `${pod.specPath}.securityContext.windowsOptions.hostProcess`, message: 'pod must not set hostProcess=true' });
  for (const c of containersOf(pod))
    if (obj(sc(c).windowsOptions).hostProcess === true)
      found.push({ path: `${c.path}.securityContext.windowsOptions.hostProcess`, message: `${containerName(c)} must not set hostProcess=true` });
  return found;
};

const hostNamespaces: CheckPod = (pod) =>
  ['hostNetwork', 'hostPID', 'hostIPC']
    .filter((f) => pod.spec[f] === true)
    .map((f) => ({ path: `${pod.specPath}.${f}`, message: `${f}=true shares the host's namespace` }));

const privileged: CheckPod = (pod) =>
  containersOf(pod)
    .filter((c) => sc(c).privileged === true)
    .map((c) => ({ path: `${c.path}.securityContext.privileged`, message: `${containerName(c)} must not be privileged` }));

const capabilitiesBaseline: CheckPod = (pod) =>
  containersOf(pod).flatMap((c) =>
    arr(obj(sc(c).capabilities).add)
      .map((cap, i) => ({ cap, i }))
      .filter(({ cap }) => !BASELINE_CAPABILITIES.has(String(cap)))
      .map(({ cap, i }) => ({
        path: `${c.path}.securityContext.capabilities.add[${i}]`,
        message: `${containerName(c)} must not add capability ${String(cap)} (beyond the default set)`,
      })),
  );

const hostPathVolumes: CheckPod = (pod) =>
  arr(pod.spec.volumes)
    .map((v, i) => ({ v: obj(v), i }))
    .filter(({ v }) => isSet(v.hostPath))
    .map(({ v, i }) => ({ path: `${pod.specPath}.volumes[${i}].hostPath`, message: `volume "${String(v.name)}" must not use hostPath` }));

const hostPorts: CheckPod = (pod) =>
  containersOf(pod).flatMap((c) =>
    arr(c.container.ports)
      .map((p, i) => ({ p: obj(p), i }))
      .filter(({ p }) => isSet(p.hostPort) && p.hostPort !== 0)
      .map(({ p, i }) => ({ path: `${c.path}.ports[${i}].hostPort`, message: `${containerName(c)} must not use hostPort ${String(p.hostPort)}` })),
  );

const appArmorProfile: CheckPod = (pod) => {
  const found = [];
  const allowedType = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const podProfile = podSC(pod).appArmorProfile;
  if (isObj(podProfile) && !allowedType(podProfile.type))
    found.push({ path: `${pod.specPath}.securityContext.appArmorProfile.type`, message: `pod must not set AppArmor profile type ${String(podProfile.type)}` });
  for (const c of containersOf(pod)) {
    const p = sc(c).appArmorProfile;
    if (isObj(p) && !allowedType(p.type))
      found.push({ path: `${c.path}.securityContext.appArmorProfile.type`, message: `${containerName(c)} must not set AppArmor profile type ${String(p.type)}` });
  }
  for (const [key, value] of Object.entries(obj(pod.metadata.annotations))) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const v = String(value ?? '');
    if (v === '' || v === 'runtime/default' || v.startsWith('localhost/')) continue;
    found.push({ path: `${pod.metadataPath}.annotations['${key}']`, message: `AppArmor annotation must not be "${v}"` });
  }
  return found;
};

function seLinuxOptions(allowedTypes: string[]): CheckPod {
  const types = new Set(allowedTypes);
  const checkOptions = (opts: unknown, path: string, who: string): Found[] => {
    if (!isObj(opts)) return [];
    const found = [];
    if (isSet(opts.type) && !types.has(String(opts.type)))
      found.push({ path: `${path}.type`, message: `${who} must not set SELinux type ${String(opts.type)}` });
    for (const f of ['user', 'role'])
      if (typeof opts[f] === 'string' && opts[f] !== '') found.push({ path: `${path}.${f}`, message: `${who} must not set a SELinux ${f}` });
    return found;
  };
  return (pod) => [
    ...checkOptions(podSC(pod).seLinuxOptions, `${pod.specPath}.securityContext.seLinuxOptions`, 'pod'),
    ...containersOf(pod).flatMap((c) => checkOptions(sc(c).seLinuxOptions, `${c.path}.securityContext.seLinuxOptions`, containerName(c))),
  ];
}
const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];

const procMount: CheckPod = (pod) =>
  containersOf(pod)
    .filter((c) => isSet(sc(c).procMount) && sc(c).procMount !== 'Default')
    .map((c) => ({ path: `${c.path}.securityContext.procMount`, message: `${containerName(c)} must not set procMount ${String(sc(c).procMount)}` }));

/** Before 1.19 PSA read the seccomp annotations; from 1.19 only the fields (kubelets ignore the annotations). */
const seccompAnnotations: CheckPod = (pod) => {
  const annotations = obj(pod.metadata.annotations);
  const valid = (v: unknown) => v === 'runtime/default' || v === 'docker/default' || (typeof v === 'string' && v.startsWith('localhost/'));
  const keys = [
    SECCOMP_POD_ANNOTATION,
    ...containersOf(pod).map((c) => `${SECCOMP_CONTAINER_ANNOTATION_PREFIX}${String(c.container.name ?? '')}`),
  ];
  return keys
    .filter((key) => key in annotations && !valid(annotations[key]))
    .map((key) => ({ path: `${pod.metadataPath}.annotations['${key}']`, message: `seccomp annotation must not be "${String(annotations[key])}"` }));
};

const validSeccomp = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';

const seccompBaseline: CheckPod = (pod) => {
  const found = [];
  const podProfile = podSC(pod).seccompProfile;
  if (isObj(podProfile) && !validSeccomp(podProfile.type))
    found.push({ path: `${pod.specPath}.securityContext.seccompProfile.type`, message: `pod must not set seccomp profile ${String(podProfile.type)}` });
  for (const c of containersOf(pod)) {
    const p = sc(c).seccompProfile;
    if (isObj(p) && !validSeccomp(p.type))
      found.push({ path: `${c.path}.securityContext.seccompProfile.type`, message: `${containerName(c)} must not set seccomp profile ${String(p.type)}` });
  }
  return found;
};

const seccompRestricted: CheckPod = (pod) => {
  const found = seccompBaseline(pod);
  const podProfile = podSC(pod).seccompProfile;
  const podSet = isObj(podProfile) && validSeccomp(podProfile.type);
  for (const c of containersOf(pod))
    if (!isObj(sc(c).seccompProfile) && !podSet)
      found.push({
        path: `${c.path}.securityContext.seccompProfile.type`,
        message: `pod or ${containerName(c)} must set seccompProfile.type to RuntimeDefault or Localhost`,
      });
  return found;
};

function sysctls(minor: number): CheckPod {
  const allowed = new Set(SYSCTLS_BY_VERSION.filter(([since]) => minor >= since).flatMap(([, names]) => names));
  return (pod) =>
    arr(podSC(pod).sysctls)
      .map((s, i) => ({ name: String(obj(s).name), i }))
      .filter(({ name }) => !allowed.has(name))
      .map(({ name, i }) => ({ path: `${pod.specPath}.securityContext.sysctls[${i}].name`, message: `sysctl ${name} is not in the safe set` }));
}

const hostProbesAndHostLifecycle: CheckPod = (pod) => {
  const found = [];
  for (const c of containersOf(pod)) {
    const handlers: [string, unknown][] = [
      ['livenessProbe', c.container.livenessProbe],
      ['readinessProbe', c.container.readinessProbe],
      ['startupProbe', c.container.startupProbe],
      ['lifecycle.postStart', obj(c.container.lifecycle).postStart],
      ['lifecycle.preStop', obj(c.container.lifecycle).preStop],
    ];
    for (const [name, handler] of handlers)
      for (const action of ['httpGet', 'tcpSocket']) {
        const host = obj(obj(handler)[action]).host;
        if (typeof host === 'string' && host !== '')
          found.push({ path: `${c.path}.${name}.${action}.host`, message: `${containerName(c)} must not send ${name} to host ${host}` });
      }
  }
  return found;
};

/**
 * A volume passes when it sets an allowed source. One that sets no source at all passes too: the API server
 * defaults it to emptyDir before PSA sees it.
 */
const restrictedVolumes: CheckPod = (pod) =>
  arr(pod.spec.volumes).flatMap((raw, i) => {
    const v = obj(raw);
    const sources = Object.keys(v).filter((k) => k !== 'name' && isSet(v[k]));
    if (sources.length === 0 || sources.some((s) => RESTRICTED_VOLUME_SOURCES.has(s))) return [];
    return [{ path: `${pod.specPath}.volumes[${i}].${sources[0]}`, message: `volume "${String(v.name)}" uses restricted volume type ${sources[0]}` }];
  });

const allowPrivilegeEscalation: CheckPod = (pod) =>
  containersOf(pod)
    .filter((c) => sc(c).allowPrivilegeEscalation !== false)
    .map((c) => ({
      path: `${c.path}.securityContext.allowPrivilegeEscalation`,
      message: `${containerName(c)} must set securityContext.allowPrivilegeEscalation=false`,
    }));

const runAsNonRoot: CheckPod = (pod) => {
  const found = [];
  const podValue = podSC(pod).runAsNonRoot;
  if (podValue === false) found.push({ path: `${pod.specPath}.securityContext.runAsNonRoot`, message: 'pod must not set runAsNonRoot=false' });
  for (const c of containersOf(pod)) {
    const value = sc(c).runAsNonRoot;
    if (value === false) found.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `${containerName(c)} must not set runAsNonRoot=false` });
    else if (!isSet(value) && podValue !== true)
      found.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `pod or ${containerName(c)} must set runAsNonRoot=true` });
  }
  return found;
};

const runAsUser: CheckPod = (pod) => {
  const found = [];
  if (podSC(pod).runAsUser === 0) found.push({ path: `${pod.specPath}.securityContext.runAsUser`, message: 'pod must not set runAsUser=0' });
  for (const c of containersOf(pod))
    if (sc(c).runAsUser === 0) found.push({ path: `${c.path}.securityContext.runAsUser`, message: `${containerName(c)} must not set runAsUser=0` });
  return found;
};

const capabilitiesRestricted: CheckPod = (pod) => {
  const found = [];
  for (const c of containersOf(pod)) {
    const caps = obj(sc(c).capabilities);
    if (!arr(caps.drop).includes('ALL'))
      found.push({ path: `${c.path}.securityContext.capabilities.drop`, message: `${containerName(c)} must drop ALL capabilities` });
    arr(caps.add).forEach((cap, i) => {
      if (cap !== 'NET_BIND_SERVICE')
        found.push({ path: `${c.path}.securityContext.capabilities.add[${i}]`, message: `${containerName(c)} may add only NET_BIND_SERVICE, not ${String(cap)}` });
    });
  }
  return found;
};

/**
 * PSA's checks (policy/check_*.go of k8s.io/pod-security-admission) with every version of each, as of
 * kubernetes/pod-security-admission@648066d9 (v0.37.0-alpha.2). test/pod-security-conformance.test.ts holds
 * them to upstream's own fixtures for each minor `check --kube-version` accepts.
 */
const controls: Control[] = [
  { id: 'windowsHostProcess', title: 'HostProcess', level: 'baseline', versions: [{ since: v1(0), check: windowsHostProcess }] },
  { id: 'hostNamespaces', title: 'Host Namespaces', level: 'baseline', versions: [{ since: v1(0), check: hostNamespaces }] },
  { id: 'privileged', title: 'Privileged Containers', level: 'baseline', versions: [{ since: v1(0), check: privileged }] },
  { id: 'capabilities_baseline', title: 'Capabilities', level: 'baseline', versions: [{ since: v1(0), check: capabilitiesBaseline }] },
  { id: 'hostPathVolumes', title: 'HostPath Volumes', level: 'baseline', versions: [{ since: v1(0), check: hostPathVolumes }] },
  { id: 'hostPorts', title: 'Host Ports', level: 'baseline', versions: [{ since: v1(0), check: hostPorts }] },
  { id: 'appArmorProfile', title: 'AppArmor', level: 'baseline', versions: [{ since: v1(0), check: appArmorProfile }] },
  {
    id: 'seLinuxOptions',
    title: 'SELinux',
    level: 'baseline',
    versions: [
      { since: v1(0), check: seLinuxOptions(SELINUX_TYPES_1_0) },
      { since: v1(31), check: seLinuxOptions([...SELINUX_TYPES_1_0, 'container_engine_t']) },
    ],
  },
  {
    id: 'procMount',
    title: '/proc Mount Type',
    level: 'baseline',
    versions: [
      { since: v1(0), check: procMount },
      // From 1.35 baseline allows any procMount in a user namespace; restricted keeps the old check (procMount_restricted).
      { since: v1(35), check: unless(inUserNamespace, procMount) },
    ],
  },
  {
    id: 'seccompProfile_baseline',
    title: 'Seccomp',
    level: 'baseline',
    versions: [
      { since: v1(0), check: seccompAnnotations },
      { since: v1(19), check: seccompBaseline },
    ],
  },
  {
    id: 'sysctls',
    title: 'Sysctls',
    level: 'baseline',
    versions: SYSCTLS_BY_VERSION.map(([minor]) => ({ since: v1(minor), check: sysctls(minor) })),
  },
  {
    id: 'hostProbesAndHostLifecycle',
    title: 'Probes and lifecycle hooks (host)',
    level: 'baseline',
    versions: [{ since: v1(34), check: hostProbesAndHostLifecycle }],
  },
  // ---- restricted ----
  {
    id: 'restrictedVolumes',
    title: 'Volume Types',
    level: 'restricted',
    versions: [{ since: v1(0), check: restrictedVolumes, overrides: ['hostPathVolumes'] }],
  },
  {
    id: 'allowPrivilegeEscalation',
    title: 'Privilege Escalation',
    level: 'restricted',
    versions: [
      { since: v1(8), check: allowPrivilegeEscalation },
      { since: v1(25), check: unless(isWindows, allowPrivilegeEscalation) },
    ],
  },
  {
    id: 'runAsNonRoot',
    title: 'Running as Non-root',
    level: 'restricted',
    versions: [
      { since: v1(0), check: runAsNonRoot },
      { since: v1(35), check: unless(inUserNamespace, runAsNonRoot) },
    ],
  },
  {
    id: 'runAsUser',
    title: 'Running as Non-root user',
    level: 'restricted',
    versions: [
      { since: v1(23), check: runAsUser },
      { since: v1(35), check: unless(inUserNamespace, runAsUser) },
    ],
  },
  {
    id: 'seccompProfile_restricted',
    title: 'Seccomp (restricted)',
    level: 'restricted',
    versions: [
      { since: v1(19), check: seccompRestricted, overrides: ['seccompProfile_baseline'] },
      { since: v1(25), check: unless(isWindows, seccompRestricted), overrides: ['seccompProfile_baseline'] },
    ],
  },
  {
    id: 'capabilities_restricted',
    title: 'Capabilities (restricted)',
    level: 'restricted',
    versions: [
      { since: v1(22), check: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      { since: v1(25), check: unless(isWindows, capabilitiesRestricted), overrides: ['capabilities_baseline'] },
    ],
  },
  {
    id: 'procMount_restricted',
    title: '/proc Mount Type (restricted)',
    level: 'restricted',
    versions: [{ since: v1(35), check: procMount, overrides: ['procMount'] }],
  },
];

/** The controls, for documentation and coverage tests: id, title, level, first version. */
export const podSecurityControls: readonly { id: string; title: string; level: PodSecurityLevel; since: string }[] =
  controls.map((c) => ({ id: c.id, title: c.title, level: c.level, since: `v${c.versions[0]!.since.major}.${c.versions[0]!.since.minor}` }));

/** The behaviour of a control in force at a version, if the control exists there. */
function inForce(control: Control, v: Version): VersionedCheck | undefined {
  return control.versions.filter((vc) => atLeast(v, vc.since)).at(-1);
}

/** Where the pod spec sits in each kind that has one. */
const POD_SPEC_LOCATIONS: Record<string, string[]> = {
  Pod: [],
  PodTemplate: ['template'],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

function locatePod(object: Obj): PodUnderCheck | undefined {
  const kind = typeof object.kind === 'string' ? object.kind : undefined;
  // A bare pod spec (has containers) is checked as it is.
  if (!kind && Array.isArray(object.containers)) return { metadata: {}, spec: object, specPath: '', metadataPath: 'metadata' };
  const location = kind ? POD_SPEC_LOCATIONS[kind] : undefined;
  if (!location) return undefined;
  let template: unknown = object;
  for (const key of location) template = obj(template)[key];
  const prefix = location.join('.');
  return {
    metadata: obj(obj(template).metadata),
    spec: obj(obj(template).spec),
    specPath: prefix ? `${prefix}.spec` : 'spec',
    metadataPath: prefix ? `${prefix}.metadata` : 'metadata',
  };
}

/**
 * Checks one object against a Pod Security Standards level. Objects without a pod template (a Service,
 * a ConfigMap) have nothing to check and return no findings.
 */
export function checkPodSecurity(
  object: unknown,
  level: PodSecurityLevel,
  version: PodSecurityVersion = 'latest',
): PodSecurityFinding[] {
  const pod = locatePod(obj(object));
  if (!pod) return [];
  const v = parsePodSecurityVersion(version);
  const applicable = controls
    .filter((c) => level === 'restricted' || c.level === 'baseline')
    .flatMap((c) => {
      const behaviour = inForce(c, v);
      return behaviour ? [{ id: c.id, ...behaviour }] : [];
    });
  const overridden = new Set(applicable.flatMap((c) => c.overrides ?? []));
  return applicable
    .filter((c) => !overridden.has(c.id))
    .flatMap((c) => c.check(pod).map((f) => ({ control: c.id, path: f.path.replace(/^\./, ''), message: f.message })));
}

export interface ExtractedPodSpec {
  kind: string;
  name: string;
  namespace?: string;
  /** 0-based index of the YAML document the object came from. */
  document: number;
  /** Where the pod spec sits in the object, e.g. `spec.template.spec`. */
  specPath: string;
  /** The pod template's metadata (annotations, labels). */
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  /** The whole object, for checkPodSecurity. */
  object: Record<string, unknown>;
}

/**
 * Every pod spec in a rendered multi-document YAML stream (helm template output, a kustomize build...),
 * from every kind that has one. `List` objects are looked into. Throws on YAML errors.
 */
export function extractPodSpecs(yamlText: string): ExtractedPodSpec[] {
  const found: ExtractedPodSpec[] = [];
  const visit = (value: unknown, document: number) => {
    const object = obj(value);
    if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
      for (const item of object.items) visit(item, document);
      return;
    }
    const pod = locatePod(object);
    if (!pod || typeof object.kind !== 'string') return;
    const meta = obj(object.metadata);
    found.push({
      kind: object.kind,
      name: String(meta.name ?? ''),
      ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
      document,
      specPath: pod.specPath,
      metadata: pod.metadata,
      spec: pod.spec,
      object,
    });
  };
  parseAllDocuments(yamlText).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`YAML document ${i + 1}: ${doc.errors[0]!.message}`);
    visit(doc.toJS(), i);
  });
  return found;
}
