/**
 * The values combinations the chart tests render: the defaults, each optional feature on by itself, and all of
 * them together. Each is what a team would put in its own values file.
 */
export const DIGEST = `sha256:${'ab'.repeat(32)}`;

const apiServerEgress = {
  to: [{ ipBlock: { cidr: '10.96.0.1/32' } }],
  ports: [{ port: 443, protocol: 'TCP' }],
};

export const valuesMatrix: Record<string, Record<string, unknown>> = {
  default: {},
  'replicas>1': { replicaCount: 3 },
  hpa: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetMemoryUtilizationPercentage: 80 } },
  'ingress+tls': {
    ingress: {
      enabled: true,
      className: 'nginx',
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      hosts: [{ host: 'api.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ secretName: 'api-example-com-tls', hosts: ['api.example.com'] }],
    },
  },
  'metrics+serviceMonitor': {
    metrics: { enabled: true, serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } } },
  },
  'extra-egress': {
    networkPolicy: {
      extraEgress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] }],
      extraIngress: [{ from: [{ podSelector: { matchLabels: { app: 'billing' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
    },
  },
  secrets: { secrets: { existingSecret: 'my-svc-secrets' } },
  rbac: {
    rbac: {
      create: true,
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-svc-settings'], verbs: ['get', 'watch'] }],
    },
    networkPolicy: { extraEgress: [apiServerEgress] },
  },
  digest: { image: { tag: '1.2.3', digest: DIGEST } },
};

/** Every optional feature at once. */
valuesMatrix['everything'] = {
  replicaCount: 2,
  image: { digest: DIGEST },
  imagePullSecrets: [{ name: 'regcred' }],
  extraEnv: [{ name: 'FEATURE_X', value: 'on' }],
  podAnnotations: { 'example.com/team': 'platform' },
  autoscaling: { enabled: true },
  ingress: (valuesMatrix['ingress+tls'] as { ingress: unknown }).ingress,
  metrics: { enabled: true, serviceMonitor: { enabled: true } },
  networkPolicy: {
    extraEgress: [
      apiServerEgress,
      { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] },
    ],
  },
  secrets: { existingSecret: 'my-svc-secrets' },
  rbac: (valuesMatrix['rbac'] as { rbac: unknown }).rbac,
};

/** Values that weaken security: the schema must reject each one unless the escape hatch is set. */
export const weakeningValues: Record<string, Record<string, unknown>> = {
  'pod runAsNonRoot: false': { podSecurityContext: { runAsNonRoot: false } },
  'pod runAsUser: 0': { podSecurityContext: { runAsUser: 0 } },
  'pod seccomp Unconfined': { podSecurityContext: { seccompProfile: { type: 'Unconfined' } } },
  'pod AppArmor Unconfined': { podSecurityContext: { appArmorProfile: { type: 'Unconfined' } } },
  'container privileged: true': { securityContext: { privileged: true } },
  'container allowPrivilegeEscalation: true': { securityContext: { allowPrivilegeEscalation: true } },
  'container readOnlyRootFilesystem: false': { securityContext: { readOnlyRootFilesystem: false } },
  'container runAsNonRoot: false': { securityContext: { runAsNonRoot: false } },
  'container runAsUser: 0': { securityContext: { runAsUser: 0 } },
  'container adds NET_ADMIN': { securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
  'container drops only NET_RAW': { securityContext: { capabilities: { drop: ['NET_RAW'] } } },
  'container seccomp Unconfined': { securityContext: { seccompProfile: { type: 'Unconfined' } } },
  'container procMount Unmasked': { securityContext: { procMount: 'Unmasked' } },
  'service type LoadBalancer': { service: { type: 'LoadBalancer' } },
};

/** Values the schema rejects whatever the escape hatch says: not security knobs but mistakes or leaks. */
export const invalidValues: Record<string, Record<string, unknown>> = {
  'unknown top-level key (hostNetwork)': { hostNetwork: true },
  'unknown security field (sysctls)': { podSecurityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } },
  'env from a Secret (valueFrom)': { extraEnv: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
  'missing cpu limit': { resources: { limits: { cpu: null } } },
  'missing ephemeral-storage request': { resources: { requests: { 'ephemeral-storage': null } } },
  'ingress without TLS': { ingress: { enabled: true, tls: [] } },
  'RBAC wildcard verb': { rbac: { create: true, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }] } },
  'RBAC escalate verb': { rbac: { create: true, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }] } },
  'RBAC wildcard group': { rbac: { create: true, rules: [{ apiGroups: ['*'], resources: ['pods'], verbs: ['get'] }] } },
  'RBAC on without rules': { rbac: { create: true, rules: [] } },
  'digest that is not sha256': { image: { digest: 'latest' } },
  'privileged port': { containerPort: 80 },
  'escape hatch without a reason': { securityException: { allowWeakerSecurity: true, reason: '' }, securityContext: { privileged: true } },
  'service account not created and not named': { serviceAccount: { create: false, name: '' } },
};
