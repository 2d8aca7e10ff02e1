import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import type { KubeObject } from './kubernetes.js';
import type { HadolintRule, KubeLinterCheck } from './ci-facts.js';

/**
 * What each default rule of kube-linter and hadolint flags, as its upstream source says (template and params
 * from data/ci-facts.json), written as a check on the emitted files. These are the test's oracle for "would
 * this rule trip on a fresh service", not a stand-in for the tools, which the emitted CI runs.
 */

// ---- kube-linter ----

const DEPLOYMENT_LIKE = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Pod']);

interface Workload {
  object: KubeObject;
  pod: any;
  labels: Record<string, string>;
  replicas: number;
}

function workloads(objects: KubeObject[]): Workload[] {
  return objects
    .filter((o) => DEPLOYMENT_LIKE.has(o.kind))
    .map((object) => {
      const template = object.kind === 'Pod' ? object : object.kind === 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template;
      return { object, pod: template.spec, labels: template.metadata?.labels ?? {}, replicas: object.spec?.replicas ?? 1 };
    });
}
const containers = (w: Workload): any[] => [...(w.pod.initContainers ?? []), ...(w.pod.containers ?? [])];
const named = (w: Workload, what: string) => `${w.object.kind}/${w.object.metadata.name}: ${what}`;
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
/** Go regexp → JS: only the inline flag group `(?i)` at the start is used by the params here. */
const goRegExp = (pattern: string) => (pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'i') : new RegExp(pattern));
const IANA_SERVICE_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

function probePorts(w: Workload, probe: string): string[] {
  return containers(w).flatMap((c) => {
    const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port ?? c[probe]?.grpc?.port;
    if (port === undefined) return [];
    const ports: any[] = c.ports ?? [];
    const ok = typeof port === 'number' ? ports.some((p) => p.containerPort === port) : ports.some((p) => p.name === port);
    return ok ? [] : [named(w, `${probe} port ${port} is not a container port`)];
  });
}
function hostPaths(w: Workload, dirs: string[]): string[] {
  return (w.pod.volumes ?? [])
    .filter((v: any) => v.hostPath && dirs.some((d) => goRegExp(d).test(v.hostPath.path)))
    .map((v: any) => named(w, `hostPath ${v.hostPath.path}`));
}

type KubeLinterOracle = (objects: KubeObject[], check: KubeLinterCheck) => string[];

export const kubeLinterOracles: Record<string, KubeLinterOracle> = {
  'dangling-service': (objects) => {
    const pods = workloads(objects);
    return objects
      .filter((o) => o.kind === 'Service' && o.spec?.selector)
      .filter((s) => !pods.some((w) => matches(s.spec.selector, w.labels)))
      .map((s) => `Service/${s.metadata.name} selects no pods`);
  },
  'deprecated-service-account-field': (objects) =>
    workloads(objects).filter((w) => w.pod.serviceAccount !== undefined).map((w) => named(w, 'serviceAccount')),
  'docker-sock': (objects, check) => workloads(objects).flatMap((w) => hostPaths(w, check.params!.dirs as string[])),
  'drop-net-raw-capability': (objects, check) =>
    workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) => {
        const caps = c.securityContext?.capabilities ?? {};
        const forbidden = check.params!.forbiddenCapabilities as string[];
        const dropped = (cap: string) => (caps.drop ?? []).some((d: string) => d === cap || d === 'ALL');
        const added = (cap: string) => (caps.add ?? []).some((a: string) => a === cap || a === 'ALL');
        return forbidden.filter((cap) => added(cap) || !dropped(cap)).map((cap) => named(w, `${c.name} keeps ${cap}`));
      }),
    ),
  'duplicate-env-var': (objects) =>
    workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) => {
        const names = (c.env ?? []).map((e: any) => e.name as string);
        return names.filter((n: string, i: number) => names.indexOf(n) !== i).map((n: string) => named(w, `${c.name} env ${n} twice`));
      }),
    ),
  'env-var-secret': (objects, check) =>
    workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) =>
        (c.env ?? [])
          .filter((e: any) => goRegExp(check.params!.name as string).test(e.name) && goRegExp(check.params!.value as string).test(e.value ?? ''))
          .map((e: any) => named(w, `${c.name} env ${e.name}=${e.value}`)),
      ),
    ),
  'host-ipc': (objects) => workloads(objects).filter((w) => w.pod.hostIPC === true).map((w) => named(w, 'hostIPC')),
  'host-network': (objects) => workloads(objects).filter((w) => w.pod.hostNetwork === true).map((w) => named(w, 'hostNetwork')),
  'host-pid': (objects) => workloads(objects).filter((w) => w.pod.hostPID === true).map((w) => named(w, 'hostPID')),
  'invalid-target-ports': (objects) => [
    ...objects
      .filter((o) => o.kind === 'Service')
      .flatMap((s) => (s.spec.ports ?? []).filter((p: any) => typeof p.targetPort === 'string' && !(p.targetPort.length <= 15 && IANA_SERVICE_NAME.test(p.targetPort))))
      .map((p: any) => `Service targetPort ${p.targetPort}`),
    ...workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) => (c.ports ?? []).filter((p: any) => p.name && !(p.name.length <= 15 && IANA_SERVICE_NAME.test(p.name))).map((p: any) => named(w, `port name ${p.name}`))),
    ),
  ],
  'job-ttl-seconds-after-finished': (objects) =>
    objects.filter((o) => o.kind === 'Job' && o.spec.ttlSecondsAfterFinished === undefined).map((o) => `Job/${o.metadata.name}`),
  'latest-tag': (objects, check) =>
    workloads(objects).flatMap((w) =>
      containers(w)
        .filter((c) => (check.params!.BlockList as string[]).some((p) => goRegExp(p).test(c.image)))
        .map((c) => named(w, `image ${c.image}`)),
    ),
  'liveness-port': (objects) => workloads(objects).flatMap((w) => probePorts(w, 'livenessProbe')),
  'readiness-port': (objects) => workloads(objects).flatMap((w) => probePorts(w, 'readinessProbe')),
  'startup-port': (objects) => workloads(objects).flatMap((w) => probePorts(w, 'startupProbe')),
  'mismatching-selector': (objects) =>
    workloads(objects)
      .filter((w) => w.object.spec?.selector && !matches(w.object.spec.selector.matchLabels, w.labels))
      .map((w) => named(w, 'selector does not match the pod labels')),
  'no-anti-affinity': (objects, check) =>
    workloads(objects)
      .filter((w) => w.replicas >= (check.params!.minReplicas as number) && !w.pod.affinity?.podAntiAffinity)
      .map((w) => named(w, `${w.replicas} replicas without podAntiAffinity`)),
  'no-extensions-v1beta': (objects) => objects.filter((o) => /^extensions\/v1beta/.test(o.apiVersion)).map((o) => `${o.kind}/${o.metadata.name}`),
  'no-read-only-root-fs': (objects) =>
    workloads(objects).flatMap((w) => containers(w).filter((c) => c.securityContext?.readOnlyRootFilesystem !== true).map((c) => named(w, c.name))),
  'non-existent-service-account': (objects) => {
    const accounts = new Set(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name));
    return workloads(objects)
      .filter((w) => w.pod.serviceAccountName && w.pod.serviceAccountName !== 'default' && !accounts.has(w.pod.serviceAccountName))
      .map((w) => named(w, `ServiceAccount ${w.pod.serviceAccountName} is not rendered`));
  },
  'pdb-max-unavailable': (objects) =>
    objects.filter((o) => o.kind === 'PodDisruptionBudget' && [0, '0', '0%'].includes(o.spec.maxUnavailable)).map((o) => `PDB/${o.metadata.name}`),
  'pdb-min-available': (objects) =>
    objects.filter((o) => o.kind === 'PodDisruptionBudget' && o.spec.minAvailable !== undefined).map((o) => `PDB/${o.metadata.name} minAvailable (evaluate against replicas)`),
  'privilege-escalation-container': (objects) =>
    workloads(objects).flatMap((w) => containers(w).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => named(w, c.name))),
  'privileged-container': (objects) =>
    workloads(objects).flatMap((w) => containers(w).filter((c) => c.securityContext?.privileged === true).map((c) => named(w, c.name))),
  'run-as-non-root': (objects) =>
    workloads(objects).flatMap((w) =>
      containers(w)
        .filter((c) => {
          const nonRoot = c.securityContext?.runAsNonRoot ?? w.pod.securityContext?.runAsNonRoot;
          const user = c.securityContext?.runAsUser ?? w.pod.securityContext?.runAsUser;
          return !(nonRoot === true || (typeof user === 'number' && user > 0));
        })
        .map((c) => named(w, c.name)),
    ),
  'sensitive-host-mounts': (objects, check) => workloads(objects).flatMap((w) => hostPaths(w, check.params!.dirs as string[])),
  'ssh-port': (objects, check) =>
    workloads(objects).flatMap((w) =>
      containers(w).flatMap((c) =>
        (c.ports ?? []).filter((p: any) => p.containerPort === check.params!.port && (p.protocol ?? 'TCP') === check.params!.protocol).map(() => named(w, c.name)),
      ),
    ),
  'unsafe-sysctls': (objects, check) =>
    workloads(objects).flatMap((w) =>
      (w.pod.securityContext?.sysctls ?? [])
        .filter((s: any) => (check.params!.unsafeSysCtls as string[]).some((p) => s.name.startsWith(p)))
        .map((s: any) => named(w, `sysctl ${s.name}`)),
    ),
  'unset-cpu-requirements': (objects) =>
    workloads(objects).flatMap((w) => containers(w).filter((c) => !c.resources?.requests?.cpu || /^0+m?$/.test(String(c.resources.requests.cpu))).map((c) => named(w, c.name))),
  'unset-memory-requirements': (objects) =>
    workloads(objects).flatMap((w) => containers(w).filter((c) => !c.resources?.limits?.memory || /^0+\w*$/.test(String(c.resources.limits.memory))).map((c) => named(w, c.name))),
  'pdb-unhealthy-pod-eviction-policy': (objects) =>
    objects.filter((o) => o.kind === 'PodDisruptionBudget' && o.spec.unhealthyPodEvictionPolicy !== 'AlwaysAllow').map((o) => `PDB/${o.metadata.name}`),
};

// ---- hadolint ----

export interface ParsedDockerfile {
  text: string;
  instructions: Instruction[];
  /** Shell-form RUN scripts, as hadolint hands them to ShellCheck. */
  runScripts: string[];
  /** Programs the RUN instructions call (first word of each simple command, roughly). */
  runPrograms: Set<string>;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const runs = instructions.filter((i) => i.getKeyword() === 'RUN');
  const runScripts = runs.map((r) => {
    // Without the leading --mount/--network flags, as BuildKit and hadolint read them.
    const args = r.getArgumentsContent() ?? '';
    return args.replace(/^(\s*--\S+\s+)+/, '');
  });
  const runPrograms = new Set(runScripts.flatMap((s) => s.split(/&&|\|\||;|\||\n/).map((c) => c.trim().split(/\s+/)[0] ?? '')).filter(Boolean));
  return { text, instructions, runScripts, runPrograms };
}

const keyword = (i: Instruction) => i.getKeyword();
const args = (i: Instruction) => i.getArgumentsContent() ?? '';

function stages(df: ParsedDockerfile): Instruction[][] {
  const out: Instruction[][] = [];
  for (const i of df.instructions) {
    if (keyword(i) === 'FROM') out.push([i]);
    else out.at(-1)?.push(i);
  }
  return out;
}
const stageName = (from: Instruction) => /\s+AS\s+(\S+)\s*$/i.exec(args(from))?.[1];
const fromImage = (from: Instruction) => args(from).replace(/^(--\S+\s+)+/, '').split(/\s+/)[0]!;

type HadolintOracle = (df: ParsedDockerfile) => string[];
const each = (df: ParsedDockerfile, kw: string, bad: (i: Instruction) => boolean, what: string) =>
  df.instructions.filter((i) => keyword(i) === kw && bad(i)).map((i) => `line ${i.getRange().start.line + 1}: ${what}`);

/** Rules that look at instructions the emitted Dockerfile has (the others look at programs or need config). */
export const hadolintOracles: Record<string, HadolintOracle> = {
  DL3000: (df) => each(df, 'WORKDIR', (i) => !/^["']?(\/|\$)/.test(args(i)), 'relative WORKDIR'),
  DL3002: (df) => {
    const users = df.instructions.filter((i) => keyword(i) === 'USER');
    const last = users.at(-1);
    return last && /^(root|0)(:|$)/.test(args(last)) ? ['the last USER is root'] : [];
  },
  DL3006: (df) => {
    const aliases: string[] = [];
    const problems: string[] = [];
    for (const s of stages(df)) {
      const img = fromImage(s[0]!);
      const untagged = img !== 'scratch' && !img.includes('$') && !aliases.includes(img) && !/[:@]/.test(img.split('/').pop()!);
      if (untagged) problems.push(`FROM ${img} without a tag`);
      const name = stageName(s[0]!);
      if (name) aliases.push(name);
    }
    return problems;
  },
  DL3007: (df) => stages(df).map((s) => fromImage(s[0]!)).filter((img) => /:latest(@|$)/.test(img)).map((img) => `FROM ${img}`),
  DL3010: (df) => each(df, 'COPY', (i) => /\.(tar|tar\.gz|tgz|tar\.xz|tar\.bz2|zip)(\s|$)/.test(args(i)), 'COPY of an archive'),
  DL3011: (df) => each(df, 'EXPOSE', (i) => args(i).split(/\s+/).some((p) => Number(p.split('/')[0]) > 65535), 'port out of range'),
  DL3012: (df) => stages(df).filter((s) => s.filter((i) => keyword(i) === 'HEALTHCHECK').length > 1).map(() => 'several HEALTHCHECKs'),
  DL3016: (df) =>
    df.runScripts
      .flatMap((s) => [...s.matchAll(/\bnpm\s+install\b([^&|;\n]*)/g)])
      .filter((m) => m[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-')).some((pkg) => !/@[^/]|^[./]|\.tgz$|#/.test(pkg.replace(/^@/, ''))))
      .map((m) => `unpinned ${m[0]}`),
  DL3021: (df) =>
    each(df, 'COPY', (i) => {
      const words = args(i).split(/\s+/).filter((w) => !w.startsWith('--'));
      return words.length > 2 && !words.at(-1)!.endsWith('/');
    }, 'COPY of several sources to a path without /'),
  DL3022: (df) => {
    const seen: string[] = [];
    const problems: string[] = [];
    for (const s of stages(df)) {
      for (const i of s.filter((x) => keyword(x) === 'COPY')) {
        const from = /--from=(\S+)/.exec(args(i))?.[1];
        if (from && !from.includes(':') && !seen.includes(from) && !/^\d+$/.test(from)) problems.push(`COPY --from=${from}`);
      }
      const name = stageName(s[0]!);
      if (name) seen.push(name);
    }
    return problems;
  },
  DL3023: (df) =>
    stages(df).flatMap((s) => {
      const name = stageName(s[0]!);
      return s.filter((i) => keyword(i) === 'COPY' && name && args(i).includes(`--from=${name} `)).map(() => `COPY --from=${name} in stage ${name}`);
    }),
  DL3024: (df) => {
    const names = stages(df).map((s) => stageName(s[0]!)).filter(Boolean);
    return names.filter((n, i) => names.indexOf(n) !== i).map((n) => `stage ${n} twice`);
  },
  DL3025: (df) => [...each(df, 'CMD', (i) => !args(i).trim().startsWith('['), 'CMD'), ...each(df, 'ENTRYPOINT', (i) => !args(i).trim().startsWith('['), 'ENTRYPOINT')],
  DL3029: (df) => each(df, 'FROM', (i) => /--platform=/.test(args(i)), 'FROM --platform'),
  DL3044: (df) =>
    each(df, 'ENV', (i) => {
      const pairs = [...args(i).matchAll(/(\w+)=/g)].map((m) => m[1]!);
      return pairs.some((name) => new RegExp(`\\$\\{?${name}\\b`).test(args(i)));
    }, 'ENV refers to a variable it defines'),
  DL3045: (df) =>
    stages(df).flatMap((s) => {
      const workdir = s.findIndex((i) => keyword(i) === 'WORKDIR');
      return s
        .filter((i, k) => keyword(i) === 'COPY' && (workdir < 0 || k < workdir))
        .filter((i) => !/^["']?(\/|\$)/.test(args(i).split(/\s+/).at(-1)!))
        .map(() => 'COPY to a relative path before WORKDIR');
    }),
  DL3048: (df) =>
    each(df, 'LABEL', (i) =>
      [...args(i).matchAll(/(?:^|\s)([^\s=]+)=/g)].some(([, key]) => {
        const k = key!.replace(/^["']|["']$/g, '');
        return !/^[a-z]/.test(k) || !/[a-z0-9]$/.test(k) || /[^0-9a-z._/-]/.test(k) || /^(com\.docker\.|io\.docker\.|org\.dockerproject\.)/.test(k) || /\.\.|--/.test(k);
      }), 'invalid label key'),
  DL3059: (df) => {
    const problems: string[] = [];
    const list = df.instructions;
    list.forEach((i, k) => {
      if (k > 0 && keyword(i) === 'RUN' && keyword(list[k - 1]!) === 'RUN') problems.push(`line ${i.getRange().start.line + 1}: consecutive RUN`);
    });
    return problems;
  },
  DL3061: (df) => (df.instructions[0] && !['FROM', 'ARG'].includes(keyword(df.instructions[0])) ? ['does not begin with FROM or ARG'] : []),
  DL3063: (df) => stages(df).map((s) => stageName(s[0]!)).filter((n) => n === 'scratch' || n === 'context').map((n) => `stage ${n}`),
  DL3064: (df) => {
    const known = /^(ACCESS_TOKEN|APPLICATION_KEY|APP_SECRET|AUTH_TOKEN|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|GH_TOKEN|GITHUB_TOKEN|NPM_AUTH_TOKEN|NPM_TOKEN)$/i;
    const suspicious = /api_key|client_key|password|private|secret|token|username/i;
    return df.instructions
      .filter((i) => keyword(i) === 'ENV' || keyword(i) === 'ARG')
      .flatMap((i) => [...args(i).matchAll(/(?:^|\s)(\w+)(?==|\s|$)/g)].map((m) => m[1]!))
      .filter((name) => known.test(name) || suspicious.test(name))
      .map((name) => `ENV/ARG ${name}`);
  },
  DL3065: (df) => each(df, 'FROM', (i) => /--platform=\$\{?TARGETPLATFORM/.test(args(i)), 'FROM --platform=$TARGETPLATFORM'),
  DL3066: (df) => each(df, 'USER', (i) => !/^\d+(:\d+)?$/.test(args(i).trim()), 'non-numeric USER'),
  DL3067: (df) => each(df, 'COPY', (i) => /--from=\S+\s+\/\s/.test(args(i)), 'COPY --from of /'),
  DL4003: (df) => stages(df).filter((s) => s.filter((i) => keyword(i) === 'CMD').length > 1).map(() => 'several CMDs'),
  DL4004: (df) => stages(df).filter((s) => s.filter((i) => keyword(i) === 'ENTRYPOINT').length > 1).map(() => 'several ENTRYPOINTs'),
  DL4006: (df) => df.runScripts.filter((s) => /[^|]\|[^|]/.test(s)).map((s) => `pipe in RUN ${s.slice(0, 40)}`),
};

/**
 * Whether a rule can fire on this Dockerfile: rules about programs only when a RUN calls one, rules about an
 * instruction only when it is there, label-schema and registry rules only with configuration we do not emit.
 */
export function hadolintFindings(rule: HadolintRule, df: ParsedDockerfile): string[] {
  if (rule.note || rule.config) return [];
  if (rule.run) {
    const used = rule.run.filter((p) => df.runPrograms.has(p));
    return used.length ? [`RUN calls ${used.join(', ')}: evaluate ${rule.code} for it`] : [];
  }
  if (rule.instruction) return df.instructions.some((i) => keyword(i) === rule.instruction) ? [`${rule.instruction} present: evaluate ${rule.code}`] : [];
  const oracle = hadolintOracles[rule.code];
  if (!oracle) return [`no oracle for ${rule.code}: write one from its source`];
  return oracle(df);
}
