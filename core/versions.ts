import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** A container image pinned by tag and digest, with where the digest was read. */
export interface PinnedImage {
  image: string;
  tag: string;
  digest: string;
  source: string;
  checked: string;
}

export interface NodeLine {
  major: number;
  status: string;
  maintenanceFrom: string;
  endOfLife: string;
  build: PinnedImage;
  runtime: PinnedImage;
  /** Docker Hardened Images of the line (--base dhi), where public digests could be read. */
  dhi?: { build: PinnedImage; runtime: PinnedImage };
}

export interface PinnedAction {
  version: string;
  sha: string;
  source: string;
  checked: string;
}

export interface Versions {
  node: { defaultMajor: number; source: string; lines: NodeLine[] };
  /** The Dockerfile frontend of the `# syntax=` line. */
  dockerfileSyntax: PinnedImage;
  /** The database and Redis images emitted CI pipelines start as service containers. */
  services: Record<'postgres' | 'mysql' | 'redis', PinnedImage>;
  kubernetes: {
    /** The minor the manifests are validated against. */
    minor: string;
    /** The date the end-of-life table was read: what "still supported" is judged against. */
    checked: string;
    source: string;
    minors: { minor: string; released: string; endOfLife: string; source: string }[];
  };
  debian: { release: string; codename: string; released: string; securitySupportEnds: string; ltsEnds: string; source: string };
  actions: Record<string, PinnedAction>;
  tools: Record<string, { version: string; source: string }>;
}

/** The single data file for every version, digest, SHA and end-of-life date the generator emits. */
export const versions: Versions = JSON.parse(readFileSync(join(packageRoot, 'data', 'versions.json'), 'utf8'));

/** Gateway API data planes: where each implementation's proxies run and how they are labelled, with sources. */
export const gatewayDataPlanes = JSON.parse(readFileSync(join(packageRoot, 'data', 'gateway-data-planes.json'), 'utf8')) as GatewayDataPlanes;

export interface DataPlaneFacts {
  label: string;
  /** The proxies' namespace; {gatewayNamespace} is the Gateway's own. */
  namespace?: string;
  /** Labels of the proxy pods; {gatewayName} and {gatewayNamespace} are the Gateway's. */
  podLabels?: Record<string, string>;
  /** Cilium: the reserved identity its Envoy sends from (no pod to select). */
  entity?: string;
  retired?: boolean;
  fact: string;
  sources?: string[];
}

interface GatewayDataPlanes {
  /** The keys of `helm create`'s httpRoute values, which the chart keeps. */
  helmScaffold: { source: string; values: string[] };
  /** Schema files of the CRD kinds the chart renders, in the catalog the emitted kubeconform reads. */
  crdsCatalog: { files: Record<string, string> };
  gateway: { name: string; namespace: string; sectionName: string };
  dataPlanes: Record<'infrastructure-labels' | 'envoy-gateway' | 'envoy-gateway-namespaced' | 'istio' | 'nginx-gateway-fabric' | 'cilium' | 'ingress-nginx', DataPlaneFacts>;
}

/** Node requirements of user namespaces (hostUsers: false) and what Pod Security relaxes for them, with sources. */
export const userNamespaceFacts = (JSON.parse(readFileSync(join(packageRoot, 'data', 'kubernetes-api.json'), 'utf8')) as { userNamespaces: UserNamespaceFacts }).userNamespaces;

export interface UserNamespaceFacts {
  stableIn: string;
  linux: string;
  containerd: string;
  crio: string;
  runc: string;
  containerdSilentlyIgnoresUpTo: string;
  podSecurityRelaxesFrom: string;
  podSecurityRelaxes: string[];
}

/** `1.35` → 35. */
export function kubernetesMinorNumber(minor: string): number {
  return Number(minor.split('.')[1]);
}

/**
 * The Kubernetes minors upstream still supports on the day data/versions.json was checked (released, not past
 * end of life), oldest first: what the chart accepts, and the range `check` works within.
 */
export function kubernetesMinorsInSupport(): Versions['kubernetes']['minors'] {
  return minorsInSupportOn(versions.kubernetes.minors, versions.kubernetes.checked);
}

/** The minors released on or before `day` (YYYY-MM-DD) and not past their end of life, oldest first. */
export function minorsInSupportOn(minors: Versions['kubernetes']['minors'], day: string): Versions['kubernetes']['minors'] {
  return minors
    .filter((m) => m.released <= day && m.endOfLife > day)
    .sort((a, b) => kubernetesMinorNumber(a.minor) - kubernetesMinorNumber(b.minor));
}

export function nodeLine(major: number): NodeLine {
  const line = versions.node.lines.find((l) => l.major === major);
  if (!line) throw new Error(`no data for Node ${major}`);
  return line;
}

/** `name:tag@sha256:…`: the tag says what it is to a reader, the digest says what it is to the runtime. */
export function imageRef(image: PinnedImage): string {
  return `${image.image}:${image.tag}@${image.digest}`;
}
