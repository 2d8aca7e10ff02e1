import { assumedImage, imageTarget } from '../../core/image.js';
import type { Answers } from '../../core/options.js';
import { kubernetesMinorsInSupport, versions } from '../../core/versions.js';
import { exposureContext } from './gateway.js';
import type { Feature } from './types.js';

/** Namespaces a service must never be installed into: shared by everything, or owned by the cluster. */
const RESERVED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * The namespace the service is installed into: its own name, unless that is one of the cluster's own
 * namespaces or uses their reserved `kube-` prefix (`default` → `default-svc`, `kube-proxy` → `proxy-svc`).
 */
export function serviceNamespace(name: string): string {
  if (!RESERVED_NAMESPACES.has(name) && !name.startsWith('kube-')) return name;
  return `${name.replace(/^kube-/, '').slice(0, 59).replace(/-+$/, '')}-svc`;
}

/** The Kubernetes minor the manifests target, in the spellings each consumer needs. */
export function kubernetesTarget() {
  const { minor } = versions.kubernetes;
  const supported = kubernetesMinorsInSupport();
  const pinned = supported.find((m) => m.minor === minor);
  if (!pinned) throw new Error(`data/versions.json: the pinned Kubernetes ${minor} is not a supported minor on ${versions.kubernetes.checked}`);
  const oldest = supported[0]!;
  return {
    /** `1.35` */
    minor,
    /** Pod Security Admission `*-version` label value: `v1.35`. */
    pssVersion: `v${minor}`,
    /** `helm template --kube-version` value: `1.35.0`. */
    helmKubeVersion: `${minor}.0`,
    /** The oldest minor upstream still supports: Chart.yaml refuses anything older. */
    oldestSupported: oldest.minor,
    /** Chart.yaml `kubeVersion` constraint (`-0` lets provider builds such as 1.35.2-eks-… match). */
    versionRange: `>=${oldest.minor}.0-0`,
    endOfLife: pinned.endOfLife,
  };
}

/**
 * What deploy/namespace.yaml admits. The same object renders the namespace's LimitRange and ResourceQuota and
 * the chart's `namespaceLimits` values, which the chart checks every release against: they cannot drift apart.
 */
export const NAMESPACE_POLICY = {
  limitRange: {
    default: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
    defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
    max: { cpu: '4', memory: '4Gi', 'ephemeral-storage': '2Gi' },
  },
  quota: {
    pods: '20',
    'requests.cpu': '4',
    'requests.memory': '8Gi',
    'requests.ephemeral-storage': '4Gi',
    'limits.cpu': '8',
    'limits.memory': '16Gi',
    'limits.ephemeral-storage': '8Gi',
    persistentvolumeclaims: '0',
    'services.loadbalancers': '0',
    'services.nodeports': '0',
  },
} as const;

/** A Service name: RFC 1035 label. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Helm refuses longer release names. */
const HELM_RELEASE_NAME_MAX = 53;

/**
 * The release name the docs install with, and the chart's default fullnameOverride: empty unless the service
 * name cannot be the Service name (it starts with a digit: DNS-1035) or the release name (over 53 characters).
 */
export function chartNames(name: string): { release: string; fullnameOverride: string } {
  const release = name.slice(0, HELM_RELEASE_NAME_MAX).replace(/-+$/, '');
  if (DNS_1035_LABEL.test(name)) return { release, fullnameOverride: release === name ? '' : name };
  return { release, fullnameOverride: `svc-${name}`.slice(0, 63).replace(/-+$/, '') };
}

/**
 * The image repositories deploy/image-policy.yaml admits: the service's own image, which is what the chart
 * deploys (the migrations Job runs the same image). A preset's allowedRegistries already contain it (the preset
 * refuses any other image answer), and `check` holds a team's additions to the preset (CHS-ADM-001). An entry
 * ending in "/" would admit a whole registry path; the generator lists exact repositories only.
 */
export function admittedImageRepositories(answers: Pick<Answers, 'image' | 'ci' | 'name' | 'owner'>): string[] {
  // An image CI names at run time is assumed to be the repository's own (core/image.ts), as signingIdentity assumes.
  return [assumedImage(answers)];
}

/** The policy's name (cluster-scoped, so it carries the namespace) and its list of repositories as a CEL literal. */
function imagePolicy(answers: Answers) {
  const repositories = admittedImageRepositories(answers);
  return {
    name: `${serviceNamespace(answers.name)}-images`,
    repositories,
    // Image names are [a-z0-9._:/-]: a single-quoted CEL string needs no escapes.
    allowedExpression: `[${repositories.map((r) => `'${r}'`).join(', ')}]`,
  };
}

function kubernetesContext(answers: Answers) {
  return {
    kubernetes: kubernetesTarget(),
    namespace: serviceNamespace(answers.name),
    imagePolicy: imagePolicy(answers),
    namespacePolicy: NAMESPACE_POLICY,
    chartNames: chartNames(answers.name),
    chartVersion: '0.1.0',
    ...exposureContext(answers),
    /** The image rule (core/image.ts): the chart's default image.repository, or none when CI names it at run time. */
    chartImage: imageTarget(answers),
  };
}

/** The Helm chart under chart/: restricted-PSS pod, NetworkPolicy, PDB, optional HPA/Ingress/ServiceMonitor/RBAC. */
export const chart: Feature = {
  name: 'chart',
  templateDir: 'chart',
  context: kubernetesContext,
};

/**
 * deploy/namespace.yaml: the namespace with PSS restricted labels, quota, limits and a default-deny policy;
 * deploy/image-policy.yaml: the admission policy that admits only digest-pinned images of the service's repository.
 */
export const namespace: Feature = {
  name: 'namespace',
  templateDir: 'namespace',
  context: kubernetesContext,
};
