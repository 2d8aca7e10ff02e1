import { describe, expect, it } from 'vitest';
import {
  checkPodSecurity,
  extractPodSpecs,
  type PodSecurityLevel,
  parsePodSecurityVersion,
  podSecurityControls,
} from '../lib/policy/pod-security.js';

// The Pod Security Standards checker, control by control: a pod that passes and one that fails, at the
// level that owns the control, with the fields and allowed values of PSA's policy/check_*.go.

type Pod = { apiVersion: string; kind: string; metadata: any; spec: any };

/** A pod that passes restricted: every later case changes one thing. */
function restrictedPod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', annotations: {} },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'example/app',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
        },
      ],
      initContainers: [
        { name: 'init', image: 'example/init', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

function podWith(change: (pod: Pod) => void): Pod {
  const pod = restrictedPod();
  change(pod);
  return pod;
}

const controlsOf = (pod: unknown, level: PodSecurityLevel, version = 'latest') =>
  [...new Set(checkPodSecurity(pod, level, version).map((f) => f.control))];

interface Case {
  control: string;
  level: PodSecurityLevel;
  fail: (pod: Pod) => void;
  /** Allowed values that must pass (besides the untouched pod). */
  pass?: ((pod: Pod) => void)[];
  /** Path of the first finding. */
  path: string;
}

const cases: Case[] = [
  {
    control: 'windowsHostProcess',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].securityContext.windowsOptions = { hostProcess: true }),
    pass: [(p) => (p.spec.securityContext.windowsOptions = { hostProcess: false })],
    path: 'spec.containers[0].securityContext.windowsOptions.hostProcess',
  },
  {
    control: 'hostNamespaces',
    level: 'baseline',
    fail: (p) => (p.spec.hostPID = true),
    pass: [(p) => Object.assign(p.spec, { hostNetwork: false, hostPID: false, hostIPC: false })],
    path: 'spec.hostPID',
  },
  {
    control: 'privileged',
    level: 'baseline',
    fail: (p) => (p.spec.initContainers[0].securityContext.privileged = true),
    pass: [(p) => (p.spec.containers[0].securityContext.privileged = false)],
    path: 'spec.initContainers[0].securityContext.privileged',
  },
  {
    control: 'capabilities_baseline',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].securityContext.capabilities.add = ['CHOWN', 'SYS_ADMIN']),
    pass: [(p) => (p.spec.containers[0].securityContext.capabilities = { add: ['CHOWN', 'KILL', 'SYS_CHROOT', 'NET_BIND_SERVICE'] })],
    path: 'spec.containers[0].securityContext.capabilities.add[1]',
  },
  {
    control: 'hostPathVolumes',
    level: 'baseline',
    fail: (p) => p.spec.volumes.push({ name: 'host', hostPath: { path: '/var/run/docker.sock' } }),
    path: 'spec.volumes[1].hostPath',
  },
  {
    control: 'hostPorts',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].ports[0].hostPort = 8080),
    pass: [(p) => (p.spec.containers[0].ports[0].hostPort = 0)],
    path: 'spec.containers[0].ports[0].hostPort',
  },
  {
    control: 'appArmorProfile',
    level: 'baseline',
    fail: (p) => (p.spec.securityContext.appArmorProfile = { type: 'Unconfined' }),
    pass: [
      (p) => (p.spec.securityContext.appArmorProfile = { type: 'RuntimeDefault' }),
      (p) => (p.spec.containers[0].securityContext.appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-app' }),
      (p) => (p.metadata.annotations['container.apparmor.security.beta.kubernetes.io/app'] = 'runtime/default'),
      (p) => (p.metadata.annotations['container.apparmor.security.beta.kubernetes.io/app'] = 'localhost/k8s-app'),
    ],
    path: 'spec.securityContext.appArmorProfile.type',
  },
  {
    control: 'appArmorProfile',
    level: 'baseline',
    fail: (p) => (p.metadata.annotations['container.apparmor.security.beta.kubernetes.io/app'] = 'unconfined'),
    path: "metadata.annotations['container.apparmor.security.beta.kubernetes.io/app']",
  },
  {
    control: 'seLinuxOptions',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].securityContext.seLinuxOptions = { type: 'spc_t' }),
    pass: [
      (p) => (p.spec.securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c123,c456' }),
      (p) => (p.spec.containers[0].securityContext.seLinuxOptions = { type: 'container_engine_t' }),
    ],
    path: 'spec.containers[0].securityContext.seLinuxOptions.type',
  },
  {
    control: 'seLinuxOptions',
    level: 'baseline',
    fail: (p) => (p.spec.securityContext.seLinuxOptions = { user: 'system_u' }),
    path: 'spec.securityContext.seLinuxOptions.user',
  },
  {
    control: 'procMount',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].securityContext.procMount = 'Unmasked'),
    pass: [(p) => (p.spec.containers[0].securityContext.procMount = 'Default')],
    path: 'spec.containers[0].securityContext.procMount',
  },
  {
    control: 'seccompProfile_baseline',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }),
    pass: [(p) => (p.spec.containers[0].securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'x.json' })],
    path: 'spec.containers[0].securityContext.seccompProfile.type',
  },
  {
    control: 'sysctls',
    level: 'baseline',
    fail: (p) => (p.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }]),
    pass: [(p) => (p.spec.securityContext.sysctls = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }, { name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }])],
    path: 'spec.securityContext.sysctls[1].name',
  },
  {
    control: 'hostProbesAndHostLifecycle',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].lifecycle = { preStop: { httpGet: { host: '169.254.169.254', path: '/', port: 80 } } }),
    pass: [(p) => (p.spec.containers[0].readinessProbe.httpGet.host = '')],
    path: 'spec.containers[0].lifecycle.preStop.httpGet.host',
  },
  {
    control: 'hostProbesAndHostLifecycle',
    level: 'baseline',
    fail: (p) => (p.spec.containers[0].readinessProbe = { tcpSocket: { host: '10.0.0.1', port: 22 } }),
    path: 'spec.containers[0].readinessProbe.tcpSocket.host',
  },
  {
    control: 'restrictedVolumes',
    level: 'restricted',
    fail: (p) => p.spec.volumes.push({ name: 'share', nfs: { server: 'nfs', path: '/' } }),
    pass: [
      (p) =>
        p.spec.volumes.push(
          { name: 'c', configMap: { name: 'c' } },
          { name: 's', secret: { secretName: 's' } },
          { name: 'd', downwardAPI: { items: [] } },
          { name: 'pr', projected: { sources: [] } },
          { name: 'pvc', persistentVolumeClaim: { claimName: 'x' } },
          { name: 'e', ephemeral: { volumeClaimTemplate: { spec: {} } } },
          { name: 'csi', csi: { driver: 'x' } },
          { name: 'img', image: { reference: 'example/data:1' } },
        ),
    ],
    path: 'spec.volumes[1].nfs',
  },
  {
    control: 'allowPrivilegeEscalation',
    level: 'restricted',
    fail: (p) => delete p.spec.initContainers[0].securityContext.allowPrivilegeEscalation,
    path: 'spec.initContainers[0].securityContext.allowPrivilegeEscalation',
  },
  {
    control: 'runAsNonRoot',
    level: 'restricted',
    fail: (p) => (p.spec.containers[0].securityContext.runAsNonRoot = false),
    pass: [
      (p) => {
        delete p.spec.securityContext.runAsNonRoot;
        for (const c of [...p.spec.containers, ...p.spec.initContainers]) c.securityContext.runAsNonRoot = true;
      },
    ],
    path: 'spec.containers[0].securityContext.runAsNonRoot',
  },
  {
    control: 'runAsNonRoot',
    level: 'restricted',
    fail: (p) => {
      delete p.spec.securityContext.runAsNonRoot;
      p.spec.containers[0].securityContext.runAsNonRoot = true;
    },
    path: 'spec.initContainers[0].securityContext.runAsNonRoot',
  },
  {
    control: 'runAsUser',
    level: 'restricted',
    fail: (p) => (p.spec.securityContext.runAsUser = 0),
    pass: [(p) => delete p.spec.securityContext.runAsUser, (p) => (p.spec.containers[0].securityContext.runAsUser = 1000)],
    path: 'spec.securityContext.runAsUser',
  },
  {
    control: 'seccompProfile_restricted',
    level: 'restricted',
    fail: (p) => delete p.spec.securityContext.seccompProfile,
    pass: [
      (p) => {
        delete p.spec.securityContext.seccompProfile;
        for (const c of [...p.spec.containers, ...p.spec.initContainers]) c.securityContext.seccompProfile = { type: 'RuntimeDefault' };
      },
    ],
    path: 'spec.initContainers[0].securityContext.seccompProfile.type',
  },
  {
    control: 'procMount_restricted',
    level: 'restricted',
    fail: (p) => {
      p.spec.hostUsers = false;
      p.spec.containers[0].securityContext.procMount = 'Unmasked';
    },
    pass: [(p) => (p.spec.containers[0].securityContext.procMount = 'Default')],
    path: 'spec.containers[0].securityContext.procMount',
  },
  {
    control: 'capabilities_restricted',
    level: 'restricted',
    fail: (p) => (p.spec.containers[0].securityContext.capabilities = { drop: ['NET_RAW'], add: ['CHOWN'] }),
    pass: [(p) => (p.spec.containers[0].securityContext.capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })],
    path: 'spec.containers[0].securityContext.capabilities.drop',
  },
];

/** Baseline controls that a restricted control replaces at restricted (PSA's OverrideCheckIDs, at latest). */
const overriddenAtRestricted: Record<string, string> = {
  hostPathVolumes: 'restrictedVolumes',
  capabilities_baseline: 'capabilities_restricted',
  seccompProfile_baseline: 'seccompProfile_restricted',
  procMount: 'procMount_restricted',
};

describe('every control', () => {
  it('the base pod passes restricted and baseline', () => {
    expect(checkPodSecurity(restrictedPod(), 'restricted')).toEqual([]);
    expect(checkPodSecurity(restrictedPod(), 'baseline')).toEqual([]);
  });

  it('covers every control of the Pod Security Standards page, and each has a test below', () => {
    const ids = podSecurityControls.map((c) => c.id);
    expect(ids.sort()).toEqual(
      [
        'windowsHostProcess', 'hostNamespaces', 'privileged', 'capabilities_baseline', 'hostPathVolumes', 'hostPorts',
        'appArmorProfile', 'seLinuxOptions', 'procMount', 'seccompProfile_baseline', 'sysctls', 'hostProbesAndHostLifecycle',
        'restrictedVolumes', 'allowPrivilegeEscalation', 'runAsNonRoot', 'runAsUser', 'seccompProfile_restricted', 'capabilities_restricted',
        'procMount_restricted',
      ].sort(),
    );
    expect(new Set(cases.map((c) => c.control))).toEqual(new Set(ids));
  });

  describe.each(cases.map((c, i) => [`${c.control} #${i}`, c] as const))('%s', (_name, c) => {
    it(`fails at ${c.level} with the offending path, and only that control`, () => {
      const pod = podWith(c.fail);
      const findings = checkPodSecurity(pod, c.level);
      expect(findings.map((f) => f.control)).toContain(c.control);
      expect(new Set(findings.map((f) => f.control))).toEqual(new Set([c.control]));
      expect(findings[0]!.path).toBe(c.path);
      expect(findings[0]!.message.length).toBeGreaterThan(10);
      expect(controlsOf(pod, 'restricted')).toContain(overriddenAtRestricted[c.control] ?? c.control);
    });

    it(`passes at ${c.level} with allowed values`, () => {
      for (const allowed of c.pass ?? []) expect(checkPodSecurity(podWith(allowed), c.level)).toEqual([]);
    });

    if (c.level === 'restricted' && c.control !== 'procMount_restricted')
      it('is not a baseline control', () => {
        expect(checkPodSecurity(podWith(c.fail), 'baseline')).toEqual([]);
      });
  });
});

describe('versions', () => {
  it('parses latest, v1.35 and 1.35, and rejects anything else', () => {
    expect(parsePodSecurityVersion('v1.35')).toEqual({ major: 1, minor: 35 });
    expect(parsePodSecurityVersion('1.22')).toEqual({ major: 1, minor: 22 });
    expect(parsePodSecurityVersion('latest').minor).toBeGreaterThan(1000);
    expect(() => parsePodSecurityVersion('1.35.2')).toThrow(/latest/);
  });

  it('applies each control from the version that introduced it', () => {
    const rootUser = podWith((p) => (p.spec.securityContext.runAsUser = 0));
    expect(controlsOf(rootUser, 'restricted', 'v1.22')).toEqual([]);
    expect(controlsOf(rootUser, 'restricted', 'v1.23')).toEqual(['runAsUser']);
    const probeHost = podWith((p) => (p.spec.containers[0].readinessProbe.httpGet.host = 'example.com'));
    expect(controlsOf(probeHost, 'baseline', 'v1.33')).toEqual([]);
    expect(controlsOf(probeHost, 'baseline', 'v1.34')).toEqual(['hostProbesAndHostLifecycle']);
    const noDrop = podWith((p) => (p.spec.containers[0].securityContext.capabilities = {}));
    expect(controlsOf(noDrop, 'restricted', 'v1.21')).toEqual([]);
    expect(controlsOf(noDrop, 'restricted', 'v1.22')).toEqual(['capabilities_restricted']);
  });

  it('widens allowed values as PSA did: sysctls and SELinux types', () => {
    const rmem = podWith((p) => (p.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_rmem', value: '1 2 3' }]));
    expect(controlsOf(rmem, 'baseline', 'v1.31')).toEqual(['sysctls']);
    expect(controlsOf(rmem, 'baseline', 'v1.32')).toEqual([]);
    const notsent = podWith((p) => (p.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_notsent_lowat', value: '16384' }]));
    expect(controlsOf(notsent, 'baseline', 'v1.36')).toEqual(['sysctls']);
    expect(controlsOf(notsent, 'baseline', 'v1.37')).toEqual([]);
    const keepalive = podWith((p) => (p.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }]));
    expect(controlsOf(keepalive, 'baseline', 'v1.28')).toEqual(['sysctls']);
    expect(controlsOf(keepalive, 'baseline', 'v1.29')).toEqual([]);
    const engine = podWith((p) => (p.spec.securityContext.seLinuxOptions = { type: 'container_engine_t' }));
    expect(controlsOf(engine, 'baseline', 'v1.30')).toEqual(['seLinuxOptions']);
    expect(controlsOf(engine, 'baseline', 'v1.31')).toEqual([]);
  });

  it('relaxes procMount for user-namespaced pods at baseline from 1.35, never at restricted', () => {
    const unmasked = podWith((p) => {
      p.spec.hostUsers = false;
      p.spec.containers[0].securityContext.procMount = 'Unmasked';
    });
    expect(controlsOf(unmasked, 'baseline', 'v1.34')).toEqual(['procMount']);
    expect(controlsOf(unmasked, 'baseline', 'v1.35')).toEqual([]);
    expect(controlsOf(unmasked, 'restricted', 'v1.34')).toEqual(['procMount']);
    expect(controlsOf(unmasked, 'restricted', 'v1.35')).toEqual(['procMount_restricted']);
  });

  it('relaxes runAsNonRoot and runAsUser for user-namespaced pods from 1.35', () => {
    const root = podWith((p) => {
      p.spec.hostUsers = false;
      p.spec.securityContext.runAsNonRoot = false;
      p.spec.securityContext.runAsUser = 0;
    });
    expect(controlsOf(root, 'restricted', 'v1.34').sort()).toEqual(['runAsNonRoot', 'runAsUser']);
    expect(controlsOf(root, 'restricted', 'v1.35')).toEqual([]);
    root.spec.hostUsers = true;
    expect(controlsOf(root, 'restricted', 'v1.35').sort()).toEqual(['runAsNonRoot', 'runAsUser']);
  });

  it('reads the seccomp annotations before 1.19 only, the fields from 1.19', () => {
    const annotated = podWith((p) => {
      p.metadata.annotations['seccomp.security.alpha.kubernetes.io/pod'] = 'unconfined';
      p.metadata.annotations['container.seccomp.security.alpha.kubernetes.io/app'] = 'docker/default';
    });
    expect(checkPodSecurity(annotated, 'baseline', 'v1.18').map((f) => f.path)).toEqual(["metadata.annotations['seccomp.security.alpha.kubernetes.io/pod']"]);
    expect(controlsOf(annotated, 'baseline', 'v1.19')).toEqual([]);
  });

  it('admits a volume without a source at restricted (the API server defaults it to emptyDir)', () => {
    expect(checkPodSecurity(podWith((p) => p.spec.volumes.push({ name: 'scratch' })), 'restricted')).toEqual([]);
  });

  it('lets capabilities_restricted replace capabilities_baseline at restricted, so Windows pods may add any from 1.25', () => {
    const windowsAdd = podWith((p) => {
      p.spec.os = { name: 'windows' };
      p.spec.containers[0].securityContext.capabilities = { add: ['SYS_ADMIN'] };
    });
    expect(controlsOf(windowsAdd, 'baseline', 'v1.25')).toEqual(['capabilities_baseline']);
    expect(controlsOf(windowsAdd, 'restricted', 'v1.25')).toEqual([]);
    expect(controlsOf(windowsAdd, 'restricted', 'v1.24')).toEqual(['capabilities_restricted']);
  });

  it('exempts Windows pods from the Linux-only restricted controls from 1.25', () => {
    const windows = podWith((p) => {
      p.spec.os = { name: 'windows' };
      delete p.spec.securityContext.seccompProfile;
      for (const c of [...p.spec.containers, ...p.spec.initContainers]) c.securityContext = {};
    });
    expect(controlsOf(windows, 'restricted', 'v1.24').sort()).toEqual(['allowPrivilegeEscalation', 'capabilities_restricted', 'seccompProfile_restricted']);
    expect(controlsOf(windows, 'restricted', 'v1.25')).toEqual([]);
  });

  it('checks ephemeral containers too', () => {
    const debug = podWith((p) => (p.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }]));
    const findings = checkPodSecurity(debug, 'baseline');
    expect(findings).toEqual([
      { control: 'privileged', path: 'spec.ephemeralContainers[0].securityContext.privileged', message: 'container "debug" must not be privileged' },
    ]);
  });
});

describe('workloads and rendered YAML', () => {
  const template = (pod: Pod) => ({ metadata: { labels: { app: 'x' } }, spec: pod.spec });
  const bad = podWith((p) => (p.spec.hostNetwork = true));

  it('finds the pod template in every workload kind, with paths from the object root', () => {
    const workloads: [unknown, string][] = [
      [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: template(bad) } }, 'spec.template.spec.hostNetwork'],
      [{ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { template: template(bad) } }, 'spec.template.spec.hostNetwork'],
      [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { template: template(bad) } }, 'spec.template.spec.hostNetwork'],
      [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { template: template(bad) } }, 'spec.template.spec.hostNetwork'],
      [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: template(bad) } }, 'spec.template.spec.hostNetwork'],
      [
        { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template(bad) } } } },
        'spec.jobTemplate.spec.template.spec.hostNetwork',
      ],
      [bad, 'spec.hostNetwork'],
      [bad.spec, 'hostNetwork'],
    ];
    for (const [workload, path] of workloads) expect(checkPodSecurity(workload, 'baseline').map((f) => f.path)).toEqual([path]);
    expect(checkPodSecurity({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} }, 'restricted')).toEqual([]);
  });

  it('extractPodSpecs reads every pod-bearing object of a multi-document stream, Lists included', () => {
    const yamlText = `
# a leading comment-only document
---
apiVersion: v1
kind: Service
metadata: { name: svc }
spec: { ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    metadata: { annotations: { a: b } }
    spec: { containers: [{ name: web, image: web }] }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec: { containers: [{ name: job, image: job }], restartPolicy: Never }
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: lone }
    spec: { containers: [{ name: c, image: c }] }
`;
    const pods = extractPodSpecs(yamlText);
    expect(pods.map((p) => [p.kind, p.name, p.namespace, p.specPath, p.document])).toEqual([
      ['Deployment', 'web', 'shop', 'spec.template.spec', 1],
      ['CronJob', 'nightly', undefined, 'spec.jobTemplate.spec.template.spec', 2],
      ['Pod', 'lone', undefined, 'spec', 3],
    ]);
    expect(pods[0]!.metadata).toEqual({ annotations: { a: 'b' } });
    expect(controlsOf(pods[1]!.object, 'restricted').sort()).toEqual(
      ['allowPrivilegeEscalation', 'capabilities_restricted', 'runAsNonRoot', 'seccompProfile_restricted'],
    );
    expect(() => extractPodSpecs('kind: [unclosed')).toThrow(/YAML document 1/);
  });
});
