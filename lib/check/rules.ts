/**
 * The rules `check` enforces. Ids are stable: CI configurations, SARIF baselines and suppressions refer to
 * them. Add new rules with new ids; never renumber.
 */
export type CheckMode = 'service' | 'manifests';

export interface CheckRule {
  id: string;
  /** Short machine name (SARIF `name`). */
  name: string;
  /** One line: what passes. */
  title: string;
  /** Why it matters. */
  why: string;
  /** How to fix a failure. */
  fix: string;
  /** Where the rule runs: auditing a service directory, rendered manifests, or both. */
  modes: readonly CheckMode[];
  tags: string[];
}

const both = ['service', 'manifests'] as const;
const service = ['service'] as const;

export const checkRules = [
  {
    id: 'CHS-PSS-001',
    name: 'pod-security-baseline',
    title: 'Every pod meets the Pod Security Standards baseline profile',
    why: 'Baseline blocks known privilege escalations: privileged containers, host namespaces, hostPath volumes, added capabilities. A namespace enforcing baseline or restricted rejects such pods at admission.',
    fix: 'Remove the field named in the finding (privileged, hostNetwork/hostPID/hostIPC, hostPath, hostPort, capabilities.add...). In a generated chart, set the value back to the chart default and turn off securityException.',
    modes: both,
    tags: ['security', 'kubernetes', 'pod-security'],
  },
  {
    id: 'CHS-PSS-002',
    name: 'pod-security-restricted',
    title: 'Every pod meets the Pod Security Standards restricted profile',
    why: 'Restricted is current pod hardening best practice: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp. The generated namespace enforces it, so a pod that misses it is rejected at deploy time.',
    fix: 'Set runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: [ALL] and seccompProfile.type: RuntimeDefault on the pod or every container (the generated chart does by default; keep securityException off).',
    modes: both,
    tags: ['security', 'kubernetes', 'pod-security'],
  },
  {
    id: 'CHS-NET-001',
    name: 'namespace-default-deny',
    title: 'The namespace has a default-deny NetworkPolicy for ingress and egress',
    why: 'Without a default deny, any pod in the cluster can reach the service and the service can reach anything: one compromised pod becomes a foothold everywhere.',
    fix: 'Keep the default-deny-all NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress], no rules) in deploy/namespace.yaml and apply it with the namespace.',
    modes: service,
    tags: ['security', 'kubernetes', 'network'],
  },
  {
    id: 'CHS-NET-002',
    name: 'workload-network-policy',
    title: "Every workload's pods are selected by a NetworkPolicy that limits ingress and egress",
    why: 'Each workload should open exactly the traffic it needs. A pod no policy selects accepts and sends anything.',
    fix: "Add a NetworkPolicy whose podSelector matches the workload's pod labels, with policyTypes [Ingress, Egress] (the generated chart's templates/networkpolicy.yaml does).",
    modes: both,
    tags: ['security', 'kubernetes', 'network'],
  },
  {
    id: 'CHS-NET-003',
    name: 'egress-exact',
    title: 'Every egress rule names its destinations and ports, and a pod with a database or Redis (DB_PORT, REDIS_PORT) may reach exactly that port',
    why: 'An egress rule without destinations or ports, to 0.0.0.0/0, or to every pod of every namespace lets a compromised pod reach anything (metadata services, other tenants, the internet). A service that talks to a database needs exactly one more port, to exactly that server.',
    fix: "Give every egress rule a `to` naming the peers (a namespace and pod selector with labels, or a CIDR narrower than /0) and `ports`. In a generated chart set database.egress / redis.egress: both selectors, or the managed server's cidr; the chart's backing-services NetworkPolicy allows exactly the server's port.",
    modes: both,
    tags: ['security', 'kubernetes', 'network'],
  },
  {
    id: 'CHS-NS-001',
    name: 'namespace-pod-security',
    title: 'The service\'s Namespace enforces, audits and warns at Pod Security restricted, pinned to a supported Kubernetes minor',
    why: 'The namespace label is what makes the API server reject a non-restricted pod; baseline, a missing label or an unpinned (latest) version lets looser pods in, or changes what is admitted when the cluster is upgraded.',
    fix: 'In deploy/namespace.yaml keep pod-security.kubernetes.io/enforce, audit and warn at restricted, each with a *-version label of a supported minor (e.g. v1.35); raise the version in a reviewed change.',
    modes: both,
    tags: ['security', 'kubernetes', 'pod-security'],
  },
  {
    id: 'CHS-NS-002',
    name: 'namespace-resource-quota',
    title: "The namespace has a ResourceQuota no weaker than the generator's, forbidding NodePort and LoadBalancer Services",
    why: 'The quota caps what one namespace can take from the cluster (a runaway rollout or a compromised workload cannot starve its neighbours) and keeps the service from being exposed outside the cluster by a NodePort or LoadBalancer Service.',
    fix: "Restore the ResourceQuota of deploy/namespace.yaml (run upgrade, or compare with a fresh service): every limit at most the generator's, services.nodeports and services.loadbalancers \"0\". Ask the platform team to raise a limit in the generator's data instead of here.",
    modes: service,
    tags: ['security', 'reliability', 'kubernetes'],
  },
  {
    id: 'CHS-NS-003',
    name: 'namespace-limit-range',
    title: "The namespace has a LimitRange giving every container default requests and limits, with maximums no higher than the generator's",
    why: 'Defaults bound any container that declares no resources (a debug pod, a third-party chart); the maximum keeps a single container from taking a node.',
    fix: "Restore the LimitRange of deploy/namespace.yaml: type Container with default, defaultRequest and max for cpu, memory and ephemeral-storage, max at most the generator's.",
    modes: service,
    tags: ['reliability', 'kubernetes'],
  },
  {
    id: 'CHS-ADM-001',
    name: 'namespace-image-admission',
    title: "The namespace has the generator's image admission policy, bound with Deny: only digest-pinned images from the service's repositories",
    why: 'Signing and pushing by digest prove nothing if the cluster runs whatever a manifest names: a tag can be moved to another image, and a foreign image (a typo, a copied example, an attacker\'s) is admitted. The ValidatingAdmissionPolicy refuses both in the namespace, with no controller to install.',
    fix: "Restore deploy/image-policy.yaml (run upgrade, or compare with a fresh service) and apply it: binding with validationActions [Deny] for the namespace, failurePolicy Fail, the generator's variables and validations unchanged. Add a repository to the `allowed` list only inside the preset's allowedRegistries.",
    modes: service,
    tags: ['security', 'kubernetes', 'supply-chain'],
  },
  {
    id: 'CHS-SCHEMA-001',
    name: 'kubernetes-schema-strict',
    title: 'Every object validates against the published schema of its kind, with unknown fields rejected',
    why: 'A misspelled field (securityContxt) or a wrong type is silently dropped or rejected at deploy time; a dropped securityContext is a hardening control that never reached the cluster.',
    fix: 'Correct the field named in the finding (spelling, type, required field, allowed value). Schemas: the Kubernetes 1.36 OpenAPI (kubernetes-models) and the prometheus-operator CRDs; a kind without a bundled schema is a warning.',
    modes: both,
    tags: ['kubernetes', 'correctness'],
  },
  {
    id: 'CHS-SCHEMA-002',
    name: 'kubernetes-api-version',
    title: 'No object uses an API version the target Kubernetes minor no longer serves (deprecated ones warn)',
    why: 'A removed API version fails the deploy (or the cluster upgrade); a deprecated one will, and the API server already warns about it.',
    fix: 'Move the object to the API version the finding names (kubectl-convert helps), and check its notable changes in the Kubernetes deprecation guide.',
    modes: both,
    tags: ['kubernetes', 'maintenance'],
  },
  {
    id: 'CHS-SCHEMA-003',
    name: 'kubernetes-names-labels-quantities',
    title: 'Names, namespaces, labels, annotations and resource quantities have the syntax the API server accepts',
    why: 'The API server rejects a name that is not a DNS-1123 (or, for a Service, DNS-1035) name, a malformed label or annotation key or value, and a quantity it cannot parse (e.g. 1GB, 0.5 cores).',
    fix: 'Use lowercase DNS names, label values of at most 63 letters, digits, -, _ and ., and quantities such as 500m, 1, 128Mi, 1Gi.',
    modes: both,
    tags: ['kubernetes', 'correctness'],
  },
  {
    id: 'CHS-FIT-001',
    name: 'namespace-admission-fit',
    title: "The service's pods fit the namespace's LimitRange and ResourceQuota at full scale (max replicas plus rollout surge)",
    why: "Pods the LimitRange rejects never start; pods beyond the quota are refused when the autoscaler or a rollout needs them: the service cannot scale under load, or a deploy hangs half-done. Both are errors: the namespace and the chart ship together, so they must agree.",
    fix: "Lower the chart's resources, autoscaling.maxReplicas or maxSurge, or raise the namespace's quota and LimitRange maximums in deploy/namespace.yaml (within the generator's, see CHS-NS-002/003).",
    modes: service,
    tags: ['reliability', 'kubernetes'],
  },
  {
    id: 'CHS-RES-001',
    name: 'resource-requests-limits',
    title: 'Every container requests and limits cpu, memory and ephemeral-storage',
    why: 'Without requests the scheduler overcommits nodes; without limits one pod can starve or evict its neighbours (a denial of service), and a full disk evicts every pod on the node.',
    fix: 'Set resources.requests and resources.limits for cpu, memory and ephemeral-storage on every container and init container (chart: values resources).',
    modes: both,
    tags: ['reliability', 'kubernetes'],
  },
  {
    id: 'CHS-IMG-001',
    name: 'dockerfile-base-image-digest',
    title: 'Every Dockerfile FROM image is pinned by digest',
    why: 'A tag can be moved to different content at any time; only a digest says exactly which bytes are built on, so builds are reproducible and a tampered tag cannot slip in.',
    fix: 'Write FROM image:tag@sha256:<digest> (keep the tag for readers); let Dependabot or Renovate propose digest updates.',
    modes: service,
    tags: ['supply-chain', 'docker'],
  },
  {
    id: 'CHS-IMG-002',
    name: 'pod-image-digest',
    title: 'Every pod image is pinned by digest',
    why: 'What runs should be exactly what CI scanned and signed. A tag can be re-pointed after the scan. The chart\'s own image may stay a tag in committed values (the pipeline publishes the digest), reported as a warning.',
    fix: 'Reference images as repository@sha256:<digest>; for the chart\'s own image deploy with --set image.digest=<the digest CI published>.',
    modes: both,
    tags: ['supply-chain', 'kubernetes'],
  },
  {
    id: 'CHS-DKR-001',
    name: 'distroless-final-stage',
    title: 'The final image stage is distroless',
    why: 'A distroless runtime has no shell and no package manager: far fewer CVEs, and nothing an attacker can use after getting code execution.',
    fix: 'Build in a full image, then copy the output into gcr.io/distroless/nodejs<major>-debian13:nonroot, a Docker Hardened Images runtime variant (dhi.io/node:<major>-debian13, not -dev) or a Chainguard image as the last stage.',
    modes: service,
    tags: ['security', 'docker'],
  },
  {
    id: 'CHS-DKR-002',
    name: 'non-root-final-stage',
    title: 'The final image stage runs as a non-root user',
    why: 'A process running as root in the container is one kernel bug or misconfiguration away from root on the node; Kubernetes can only verify runAsNonRoot for numeric users.',
    fix: 'End the final stage with USER 65532:65532 (a numeric, non-zero uid), or use a :nonroot distroless tag without a later USER root.',
    modes: service,
    tags: ['security', 'docker'],
  },
  {
    id: 'CHS-DKR-003',
    name: 'dockerignore-coverage',
    title: '.dockerignore keeps secrets, .git and node_modules out of the build context',
    why: 'Everything in the build context can end up in an image layer or the build cache: a .env file, a private key or the git history then ships with the image.',
    fix: 'Use an allowlist .dockerignore (start with *, then !package.json, !src/ ...) and exclude **/.env, **/.env.*, **/.npmrc, **/*.pem, **/*.key even inside allowed folders.',
    modes: service,
    tags: ['security', 'docker', 'secrets'],
  },
  {
    id: 'CHS-CI-001',
    name: 'ci-actions-pinned',
    title: 'Every GitHub Action is pinned by a full 40-character commit SHA',
    why: 'A tag or branch of an action can be moved to malicious code (as in the tj-actions/changed-files compromise); a commit SHA cannot.',
    fix: 'Write uses: owner/repo@<40-hex sha> # vX.Y.Z; Dependabot keeps SHA pins up to date.',
    modes: service,
    tags: ['supply-chain', 'ci'],
  },
  {
    id: 'CHS-CI-002',
    name: 'ci-least-privilege',
    title: 'Workflows grant read-only permissions at the top level, and no job gets write-all',
    why: 'The GITHUB_TOKEN of a compromised step can push code, publish packages or change releases with whatever the workflow grants.',
    fix: 'Set top-level permissions: { contents: read } and grant a write scope (e.g. security-events: write) only on the job that needs it.',
    modes: service,
    tags: ['security', 'ci'],
  },
  {
    id: 'CHS-CI-003',
    name: 'ci-runs-check',
    title: 'CI runs create-hardened-service check on every pull or merge request',
    why: 'Hardening decays one edit at a time; a gate on every change keeps the service at the baseline.',
    fix: 'Keep the check job of the generated CI (GitHub: ci.yml, job check; GitLab: .gitlab-ci.yml, job check), or run `npx create-hardened-service check .` in your pipeline.',
    modes: service,
    tags: ['ci'],
  },
  {
    id: 'CHS-CHART-001',
    name: 'chart-renders',
    title: 'The Helm chart renders with helm for its default values and every values file',
    why: 'A chart that does not render cannot be audited (and will not deploy); check fails closed rather than passing what it could not see.',
    fix: 'Install helm (v3.8+ or v4) on PATH, and fix the error helm reports for the named values file.',
    modes: service,
    tags: ['kubernetes'],
  },
  {
    id: 'CHS-GEN-001',
    name: 'generator-current',
    title: 'The service is current with this generator version',
    why: 'New generator versions carry new pins, digests and hardening; a service that is behind misses them.',
    fix: 'Run `npx create-hardened-service upgrade` in the service and review the merged changes.',
    modes: service,
    tags: ['maintenance'],
  },
  {
    id: 'CHS-MANIFEST-001',
    name: 'manifest-valid',
    title: 'The service\'s .hardened-service.json validates against data/manifest.schema.json',
    why: 'upgrade and check act on the manifest: upgrade refuses one that does not validate (a wrong type, a missing answer, a path outside the service, a newer generator), so the service can no longer be upgraded.',
    fix: 'Restore .hardened-service.json from version control (git log -p -- .hardened-service.json), or correct the field the finding names.',
    modes: service,
    tags: ['maintenance'],
  },
  {
    id: 'CHS-PRE-001',
    name: 'preset-locks',
    title: "The service's recorded answers match the preset's locked answers",
    why: 'Locks are the platform team\'s decisions (CI system, framework...); a service that differs is outside what the platform supports.',
    fix: 'Run `npx create-hardened-service upgrade`, which re-applies the preset\'s locks.',
    modes: service,
    tags: ['preset'],
  },
  {
    id: 'CHS-PRE-002',
    name: 'preset-allowed-registries',
    title: "Images come from the preset's allowed registries",
    why: 'Images from unapproved registries bypass the organisation\'s scanning, signing and retention.',
    fix: 'Push the image to an allowed registry and set --image (or chart values image.repository) to it.',
    modes: both,
    tags: ['preset', 'supply-chain'],
  },
  {
    id: 'CHS-PRE-003',
    name: 'preset-min-node',
    title: "The image's Node.js line is at least the preset's minimum",
    why: 'Old Node lines lose security fixes at end of life.',
    fix: 'Run `npx create-hardened-service upgrade --node-version <supported line>`.',
    modes: service,
    tags: ['preset', 'maintenance'],
  },
  {
    id: 'CHS-PRE-004',
    name: 'preset-memory-ceiling',
    title: "Every container's memory limit is at most the preset's ceiling",
    why: 'The platform sizes nodes and quotas for a maximum pod size; larger pods cannot be scheduled or crowd out others.',
    fix: 'Lower resources.limits.memory to the ceiling (or ask the platform team for an exception in the preset).',
    modes: both,
    tags: ['preset', 'reliability'],
  },
  {
    id: 'CHS-PRE-005',
    name: 'preset-required-scanners',
    title: "CI runs every scanner the preset requires",
    why: 'The organisation relies on these scanners for its vulnerability and secret management.',
    fix: 'Restore the scanner\'s job from the generated CI (upgrade brings it back if you deleted the file).',
    modes: service,
    tags: ['preset', 'ci'],
  },
  {
    id: 'CHS-PRE-006',
    name: 'preset-required-verifiers',
    title: "Every signature verifier the preset requires has its policy in verify/, denying, with the pipeline's identity only",
    why: 'The organisation runs that verifier in its clusters: without the policy, or with a looser identity, images nobody signed (or someone else signed) are admitted.',
    fix: "Restore verify/<verifier>.yaml (upgrade brings it back): a denying policy whose keyless identity is the generator's (the pipeline's issuer and subject).",
    modes: service,
    tags: ['preset', 'supply-chain'],
  },
  {
    id: 'CHS-PRE-007',
    name: 'preset-image-base-and-platforms',
    title: "The image is built on the base and for the platforms the preset locks",
    why: 'The platform team picked the base images it patches and trusts (distroless or Docker Hardened Images) and the node architectures its clusters run; an image on another base, or missing a platform, does not fit them.',
    fix: 'Run `npx create-hardened-service upgrade`, which re-renders the Dockerfile and the pipelines with the locked --base and --platforms.',
    modes: service,
    tags: ['preset', 'docker', 'ci'],
  },
] as const satisfies readonly CheckRule[];

export type RuleId = (typeof checkRules)[number]['id'];

export function ruleById(id: RuleId): CheckRule {
  return checkRules.find((r) => r.id === id)!;
}
