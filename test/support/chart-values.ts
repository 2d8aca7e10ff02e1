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

const ingressOn = (hosts: string[], tlsHosts: string[][]) => ({
  ingress: {
    enabled: true,
    hosts: hosts.map((host) => ({ host, paths: [{ path: '/', pathType: 'Prefix' }] })),
    tls: tlsHosts.map((h, i) => ({ secretName: `tls-${i}`, hosts: h })),
  },
});
const rbacRule = (rule: Record<string, unknown>) => ({
  rbac: { create: true, rules: [rule] },
  networkPolicy: { extraEgress: [apiServerEgress] },
});
const exception = { securityException: { allowWeakerSecurity: true, reason: 'reviewed in PLAT-42: needed until the migration' } };
const NOT_A_LABEL_VALUE = "a label value is at most 63 letters, digits, '-', '_' or '.', with a letter or digit at each end (deploy other tags by image.digest)";
const ESCALATION = 'refused unless securityException.allowWeakerSecurity is true with a reason';
const NOT_A_HOST = `is not a lowercase DNS name (RFC 1123: letters a-z, digits, '-' and '.', optionally starting with "*."; not an IP address), as the Ingress API requires`;

/**
 * Values whose objects the API server or the namespace (deploy/namespace.yaml) would reject: the chart refuses
 * each one with this exact line (a template `fail`, or a schema error for a malformed quantity). `release` is
 * the Helm release name when it is the bad value.
 */
export const refusedValues: Record<string, { values: Record<string, unknown>; release?: string; error: string }> = {
  'nameOverride with capitals and a dot': {
    values: { nameOverride: 'My.Api' },
    error: `nameOverride "My.Api" is not a DNS-1123 label (it is part of every object name): lowercase letters, digits and '-', a letter or digit at each end, at most 63 characters`,
  },
  'fullnameOverride with capitals': {
    values: { fullnameOverride: 'Orders' },
    error: `fullnameOverride "Orders" is not a DNS-1035 label (it names the Service): lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters`,
  },
  'fullnameOverride with a dot': {
    values: { fullnameOverride: 'orders.api' },
    error: `fullnameOverride "orders.api" is not a DNS-1035 label (it names the Service): lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters`,
  },
  'release name starting with a digit (helm install 3d-render)': {
    values: {},
    release: '3d-render',
    error: `release name "3d-render" makes the Service name "3d-render-my-svc", which is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter): use a release name that starts with a letter and has no dot, or set fullnameOverride`,
  },
  'release name with a dot': {
    values: {},
    release: 'my-svc.v2',
    error: `release name "my-svc.v2" makes the Service name "my-svc.v2", which is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter): use a release name that starts with a letter and has no dot, or set fullnameOverride`,
  },
  'image.tag starting with _': { values: { image: { tag: '_latest' } }, error: `image.tag "_latest" cannot be the app.kubernetes.io/version label: ${NOT_A_LABEL_VALUE}` },
  'image.tag ending with -': { values: { image: { tag: '1.0.0-' } }, error: `image.tag "1.0.0-" cannot be the app.kubernetes.io/version label: ${NOT_A_LABEL_VALUE}` },
  'image.tag of 64 characters': {
    values: { image: { tag: `1.0.0-${'a'.repeat(58)}` } },
    error: `image.tag "1.0.0-${'a'.repeat(58)}" cannot be the app.kubernetes.io/version label: ${NOT_A_LABEL_VALUE}`,
  },
  'podLabels repeating a chart label': {
    values: { podLabels: { 'app.kubernetes.io/name': 'other' } },
    error: 'podLabels.app.kubernetes.io/name repeats a label the chart sets itself (app.kubernetes.io/name: my-svc): remove it',
  },
  'podLabels repeating the selector label': {
    values: { podLabels: { 'app.kubernetes.io/instance': 'x' } },
    error: 'podLabels.app.kubernetes.io/instance repeats a label the chart sets itself (app.kubernetes.io/instance: my-svc): remove it',
  },
  'serviceMonitor labels repeating a chart label': {
    values: { metrics: { enabled: true, serviceMonitor: { enabled: true, labels: { 'helm.sh/chart': 'x' } } } },
    error: 'metrics.serviceMonitor.labels.helm.sh/chart repeats a label the chart sets itself (helm.sh/chart: my-svc-0.1.0): remove it',
  },
  'podLabels value that is not a label value': {
    values: { podLabels: { team: 'Platform Team' } },
    error: `podLabels.team value "Platform Team" is not a label value: at most 63 letters, digits, '-', '_' or '.', with a letter or digit at each end`,
  },
  'service.port equal to metrics.port': {
    values: { service: { port: 9464 }, metrics: { enabled: true } },
    error: 'metrics.port (9464) equals service.port: a Service cannot expose one port twice; choose another metrics.port',
  },
  'metrics.port equal to containerPort': {
    values: { metrics: { enabled: true, port: 8080 } },
    error: 'metrics.port (8080) equals containerPort: the service and its metrics listen on a port each; choose another metrics.port',
  },
  'secrets.mountPath /tmp': {
    values: { secrets: { existingSecret: 'my-svc-secrets', mountPath: '/tmp' } },
    error: 'secrets.mountPath "/tmp" is already a mount of the container (/, /tmp): a container mounts one volume per path; use e.g. /run/secrets',
  },
  'secrets.mountPath on the service account token (rbac)': {
    values: { secrets: { mountPath: '/var/run/secrets/kubernetes.io/serviceaccount/' }, ...rbacRule({ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }) },
    error:
      'secrets.mountPath "/var/run/secrets/kubernetes.io/serviceaccount/" is already a mount of the container (/, /tmp, /var/run/secrets/kubernetes.io/serviceaccount): a container mounts one volume per path; use e.g. /run/secrets',
  },
  'cpu request above its limit': {
    values: { resources: { requests: { cpu: '1500m' } } },
    error: 'resources.requests.cpu (1500m) exceeds resources.limits.cpu (1): a request must not exceed its limit',
  },
  'memory request above its limit (in bytes)': {
    values: { resources: { requests: { memory: 268435457 } } },
    error: 'resources.requests.memory (2.68435457e+08) exceeds resources.limits.memory (256Mi): a request must not exceed its limit',
  },
  'cpu limit above the LimitRange maximum': {
    values: { resources: { limits: { cpu: '4001m' } } },
    error: "resources.limits.cpu (4001m) exceeds the namespace's LimitRange maximum per container (4 in deploy/namespace.yaml, namespaceLimits.containerMax)",
  },
  'memory limit above the LimitRange maximum': {
    values: { resources: { limits: { memory: '5Gi' } } },
    error: "resources.limits.memory (5Gi) exceeds the namespace's LimitRange maximum per container (4Gi in deploy/namespace.yaml, namespaceLimits.containerMax)",
  },
  'autoscaling.maxReplicas × cpu limit (plus surge) above the quota': {
    values: { autoscaling: { enabled: true, maxReplicas: 7 } },
    error:
      "resources.limits.cpu (1) × 9 pods at the peak of a rollout (autoscaling.maxReplicas 7 plus the 25% surge) exceeds the namespace's ResourceQuota limits.cpu (8 in deploy/namespace.yaml, namespaceLimits.quota)",
  },
  'replicaCount × memory requests above the quota': {
    values: { replicaCount: 4, resources: { requests: { memory: '2Gi' }, limits: { cpu: '500m', memory: '2Gi' } } },
    error:
      "resources.requests.memory (2Gi) × 5 pods at the peak of a rollout (replicaCount 4 plus the 25% surge) exceeds the namespace's ResourceQuota requests.memory (8Gi in deploy/namespace.yaml, namespaceLimits.quota)",
  },
  'more pods than the quota allows': {
    values: { replicaCount: 17, resources: { limits: { cpu: '100m' } } },
    error: "22 pods at the peak of a rollout (replicaCount 17 plus the 25% surge) exceed the namespace's ResourceQuota of 20 pods (deploy/namespace.yaml, namespaceLimits.quota)",
  },
  'NodePort through the security exception': {
    values: { ...exception, service: { type: 'NodePort' } },
    error:
      "service.type NodePort allocates node ports and the namespace's ResourceQuota allows none (services.nodeports: 0 in deploy/namespace.yaml): keep ClusterIP and expose the service through httpRoute or ingress",
  },
  'LoadBalancer through the security exception': {
    values: { ...exception, service: { type: 'LoadBalancer' } },
    error:
      "service.type LoadBalancer allocates node ports and the namespace's ResourceQuota allows none (services.nodeports: 0 in deploy/namespace.yaml): keep ClusterIP and expose the service through httpRoute or ingress",
  },
  'tmpVolume.sizeLimit 10iM (schema quantity pattern)': {
    values: { tmpVolume: { sizeLimit: '10iM' } },
    error: "- at '/tmpVolume/sizeLimit': '10iM' does not match pattern '^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$'",
  },
  'cpu limit 1.5 cores spelled 1.5c (schema quantity pattern)': {
    values: { resources: { limits: { cpu: '1.5c' } } },
    error: "- at '/resources/limits/cpu': '1.5c' does not match pattern '^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$'",
  },
  'uppercase ingress host': {
    values: ingressOn(['API.example.com'], [['api.example.com']]),
    error: `ingress.hosts[0].host "API.example.com" ${NOT_A_HOST}`,
  },
  'ingress host that is an IP address': {
    values: ingressOn(['10.0.0.1'], [['10.0.0.1']]),
    error: `ingress.tls[0].hosts[0] "10.0.0.1" ${NOT_A_HOST}`,
  },
  'ingress host no TLS entry covers': {
    values: ingressOn(['api.example.com', 'www.example.com'], [['api.example.com']]),
    error:
      'ingress.hosts[1].host "www.example.com" is not covered by any ingress.tls entry: every host is served over TLS only; add it (or a "*." wildcard of its parent domain) to the hosts of a tls entry',
  },
  'ingress host a wildcard does not cover (two labels deep)': {
    values: ingressOn(['a.b.example.com'], [['*.example.com']]),
    error:
      'ingress.hosts[0].host "a.b.example.com" is not covered by any ingress.tls entry: every host is served over TLS only; add it (or a "*." wildcard of its parent domain) to the hosts of a tls entry',
  },
  'RBAC pods/exec create': {
    values: rbacRule({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }),
    error: `rbac.rules[0] grants create on pods/exec, an escalation path (it runs commands in other pods): ${ESCALATION}`,
  },
  'RBAC pods/exec get (websocket exec)': {
    values: rbacRule({ apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }),
    error: `rbac.rules[0] grants get on pods/exec, an escalation path (it runs commands in other pods): ${ESCALATION}`,
  },
  'RBAC pod create': {
    values: rbacRule({ apiGroups: [''], resources: ['pods'], verbs: ['get', 'create'] }),
    error: `rbac.rules[0] grants create on pods, an escalation path (it controls the pods of the namespace: any image, any service account): ${ESCALATION}`,
  },
  'RBAC pod delete': {
    values: rbacRule({ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }),
    error: `rbac.rules[0] grants delete on pods, an escalation path (it controls the pods of the namespace: any image, any service account): ${ESCALATION}`,
  },
  'RBAC deployment patch': {
    values: rbacRule({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] }),
    error: `rbac.rules[0] grants patch on apps/deployments, an escalation path (it controls the pods of the namespace: any image, any service account): ${ESCALATION}`,
  },
  'RBAC rolebinding create': {
    values: rbacRule({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] }),
    error: `rbac.rules[0] grants create on rbac.authorization.k8s.io/rolebindings, an escalation path (it grants roles to any subject): ${ESCALATION}`,
  },
  'RBAC role create': {
    values: rbacRule({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['create'] }),
    error: `rbac.rules[0] grants create on rbac.authorization.k8s.io/roles, an escalation path (it rewrites what service accounts may do): ${ESCALATION}`,
  },
  'RBAC service account token create': {
    values: rbacRule({ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }),
    error: `rbac.rules[0] grants create on serviceaccounts/token, an escalation path (it mints tokens for any service account of the namespace): ${ESCALATION}`,
  },
  'RBAC secrets list without resourceNames': {
    values: rbacRule({ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }),
    error: 'rbac.rules[0] grants list on every Secret of the namespace: name the Secrets in resourceNames (or set securityException.allowWeakerSecurity with a reason)',
  },
  'RBAC secrets get without resourceNames': {
    values: rbacRule({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }),
    error: 'rbac.rules[0] grants get on every Secret of the namespace: name the Secrets in resourceNames (or set securityException.allowWeakerSecurity with a reason)',
  },
  ...Object.fromEntries(
    ['DB_PASSWORD', 'API_TOKEN', 'authToken', 'CLIENT_SECRET', 'STRIPE_KEY', 'AWS_SECRET_ACCESS_KEY', 'GOOGLE_APPLICATION_CREDENTIALS', 'SMTP_PASS'].map((name) => [
      `extraEnv literal ${name}`,
      {
        values: { extraEnv: [{ name: 'FEATURE_X', value: 'on' }, { name, value: 'hunter2' }] },
        error: `extraEnv[1] ${name} looks like a secret (PASSWORD, TOKEN, SECRET, KEY, CREDENTIAL...) and would sit in plain text in the Deployment: put it in the Secret named by secrets.existingSecret and read the file /run/secrets/<key> (SECRETS_DIR)`,
      },
    ]),
  ),
};

/**
 * Good values at the edge of each rule above: each renders, and every object passes the Kubernetes schema, the
 * API server's own checks and the namespace's admission (PSA restricted, LimitRange, ResourceQuota).
 */
export const edgeValues: Record<string, { values: Record<string, unknown>; release?: string }> = {
  'nameOverride and fullnameOverride at their rules': { values: { nameOverride: 'api-2', fullnameOverride: `o${'-x'.repeat(30)}9z` } },
  'release name of 53 characters, starting with a letter': { values: {}, release: `r${'-5'.repeat(26)}` },
  'release name starting with a digit, with fullnameOverride': { values: { fullnameOverride: 'render-3d' }, release: '3d-render' },
  'image.tag of 63 characters with _ and . inside': { values: { image: { tag: `v1.2_${'a'.repeat(57)}9` } } },
  'podLabels and serviceMonitor labels of their own': {
    values: { podLabels: { team: 'platform', 'example.com/tier': 'backend_1' }, metrics: { enabled: true, serviceMonitor: { enabled: true, labels: { release: 'prom' } } } },
  },
  'metrics on its own port next to the service port': { values: { service: { port: 9465 }, metrics: { enabled: true, port: 9464 } } },
  'secrets under their own path': { values: { secrets: { existingSecret: 'my-svc-secrets', mountPath: '/etc/my-svc/secrets' } } },
  'requests equal to limits, spelled differently': {
    values: { resources: { requests: { cpu: '0.5', memory: 268435456, 'ephemeral-storage': '0.25Gi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '256Mi' } } },
  },
  'limits at the LimitRange maximum': {
    values: { resources: { limits: { cpu: '4', memory: '4096Mi', 'ephemeral-storage': '2Gi' } }, tmpVolume: { sizeLimit: '1Gi' } },
  },
  'autoscaling exactly at the cpu quota': { values: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } } },
  'replicas exactly at the pod quota': { values: { replicaCount: 16, resources: { limits: { cpu: '400m' } } } },
  'quantities with exponents and decimal suffixes': {
    values: { resources: { requests: { cpu: '0.1', memory: '128M' }, limits: { cpu: '0.001k', memory: '256e6' } }, tmpVolume: { sizeLimit: '64e6' } },
  },
  'ingress: every host covered, by name or by wildcard': {
    values: ingressOn(['api.example.com', 'www.example.com', '*.apps.example.com', 'x.apps.example.com'], [['api.example.com'], ['*.example.com', '*.apps.example.com']]),
  },
  'RBAC: reads only, secrets by name': {
    values: rbacRule({ apiGroups: [''], resources: ['configmaps', 'pods', 'secrets'], resourceNames: ['my-svc-settings'], verbs: ['get', 'list', 'watch'] }),
  },
  'RBAC: an escalation path through the security exception': {
    values: { ...exception, ...rbacRule({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }) },
  },
  'extraEnv names that only contain the words': {
    values: { extraEnv: ['KEYBOARD_LAYOUT', 'MONKEY_MODE', 'TOKENIZER_MODEL', 'PASSTHROUGH', 'CACHE_KEYSPACE'].map((name) => ({ name, value: 'x' })) },
  },
};
