/** The signature verifiers a preset can require (constraints.requiredVerifiers): the generator's policy file for each. */
export const VERIFIERS: Record<string, { file: string; kind: string; description: string }> = {
  'policy-controller': { file: 'verify/policy-controller.yaml', kind: 'ClusterImagePolicy', description: 'sigstore policy-controller' },
  kyverno: { file: 'verify/kyverno.yaml', kind: 'ImageValidatingPolicy', description: 'Kyverno' },
};
