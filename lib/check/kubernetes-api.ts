import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../../core/package-root.js';
import { kubernetesMinorNumber as minorOf, kubernetesMinorsInSupport } from '../../core/versions.js';

interface KubernetesApiFacts {
  podSecurityAdmission: { commit: string; newestFixtures: string };
}

/** data/kubernetes-api.json: the Kubernetes facts `check` applies, each with its source. */
const facts: KubernetesApiFacts = JSON.parse(readFileSync(join(packageRoot, 'data', 'kubernetes-api.json'), 'utf8'));

/**
 * The minors `check --kube-version` accepts, oldest first: those upstream still supports on the day
 * data/versions.json was checked, up to the newest the vendored Pod Security Admission has fixtures for.
 */
export const supportedKubernetesMinors: readonly string[] = checkableMinors(kubernetesMinorsInSupport().map((m) => m.minor));

/** Of the minors in support, those the vendored Pod Security fixtures reach: a newer release waits for its fixtures. */
export function checkableMinors(inSupport: string[], newestFixtures = facts.podSecurityAdmission.newestFixtures): string[] {
  return inSupport.filter((m) => minorOf(m) <= minorOf(newestFixtures));
}

export function supportedRange(): string {
  return `${supportedKubernetesMinors[0]}–${supportedKubernetesMinors.at(-1)}`;
}

/**
 * The minor to check against (`1.35`): `--kube-version` (`1.35` or `v1.35`), else the generator's target, raised
 * to the preset's minimum (constraints.minKubernetesVersion) when that is newer. Bad input is a UsageError.
 */
export function targetMinor(version: string | undefined, fallback: string, minimum?: string): string {
  const minor = (version ?? (minimum && minorOf(minimum) > minorOf(fallback) ? minimum : fallback)).replace(/^v/, '');
  if (!supportedKubernetesMinors.includes(minor)) {
    throw new UsageError(`--kube-version ${version ?? fallback} is not a supported Kubernetes minor: use one of ${supportedKubernetesMinors.join(', ')} (${supportedRange()})`);
  }
  if (minimum && minorOf(minor) < minorOf(minimum)) {
    throw new UsageError(`--kube-version ${version} is below the preset's minimum Kubernetes ${minimum} (constraints.minKubernetesVersion): use ${minimum} or newer`);
  }
  return minor;
}
