import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../package-root.js';

interface KubernetesApiFacts {
  minors: { supported: string[]; source: string };
}

/** data/kubernetes-api.json: the Kubernetes facts `check` applies, each with its source. */
const facts: KubernetesApiFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'kubernetes-api.json'), 'utf8'));

/** The minors `check --kube-version` accepts, oldest first: `1.35`… */
export const supportedKubernetesMinors: readonly string[] = facts.minors.supported;

export function supportedRange(): string {
  return `${supportedKubernetesMinors[0]}–${supportedKubernetesMinors.at(-1)}`;
}

/** The minor to check against (`1.35`), from `--kube-version` (`1.35` or `v1.35`) or the default; bad input is a UsageError. */
export function targetMinor(version: string | undefined, fallback: string): string {
  const minor = (version ?? fallback).replace(/^v/, '');
  if (!supportedKubernetesMinors.includes(minor)) {
    throw new UsageError(`--kube-version ${version ?? fallback} is not a supported Kubernetes minor: use one of ${supportedKubernetesMinors.join(', ')} (${supportedRange()})`);
  }
  return minor;
}
