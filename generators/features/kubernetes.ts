import type { Answers } from '../options.js';
import { versions } from '../../lib/versions.js';
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
  const { minor, versionRange, endOfLife } = versions.kubernetes;
  return {
    /** `1.35` */
    minor,
    /** Pod Security Admission `*-version` label value: `v1.35`. */
    pssVersion: `v${minor}`,
    /** `helm template --kube-version` value: `1.35.0`. */
    helmKubeVersion: `${minor}.0`,
    /** Chart.yaml `kubeVersion` constraint. */
    versionRange,
    endOfLife,
  };
}

function kubernetesContext(answers: Answers) {
  return { kubernetes: kubernetesTarget(), namespace: serviceNamespace(answers.name), chartVersion: '0.1.0' };
}

/** The Helm chart under chart/: restricted-PSS pod, NetworkPolicy, PDB, optional HPA/Ingress/ServiceMonitor/RBAC. */
export const chart: Feature = {
  name: 'chart',
  templateDir: 'chart',
  context: kubernetesContext,
};

/** deploy/namespace.yaml: the namespace with PSS restricted labels, quota, limits and a default-deny policy. */
export const namespace: Feature = {
  name: 'namespace',
  templateDir: 'namespace',
};
