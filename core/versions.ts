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

/** `1.35` → 35. */
export function kubernetesMinorNumber(minor: string): number {
  return Number(minor.split('.')[1]);
}

/**
 * The Kubernetes minors upstream still supports on the day data/versions.json was checked (released, not past
 * end of life), oldest first: what the chart accepts, and the range `check` works within.
 */
export function kubernetesMinorsInSupport(): Versions['kubernetes']['minors'] {
  const { minors, checked } = versions.kubernetes;
  return minors
    .filter((m) => m.released <= checked && m.endOfLife > checked)
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
