{{/*
Names, labels and checks shared by every template of this chart.
*/}}

{{- define "svc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name, at most 63 characters (a DNS label). */}}
{{- define "svc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* name-version, at most 63 characters: the name is shortened, never the version (a label ending in "." is invalid). */}}
{{- define "svc.chart" -}}
{{- $version := .Chart.Version | replace "+" "_" }}
{{- printf "%s-%s" (.Chart.Name | trunc (int (sub 62 (len $version))) | trimSuffix "-") $version }}
{{- end }}

{{/* The standard app.kubernetes.io labels. */}}
{{- define "svc.labels" -}}
helm.sh/chart: {{ include "svc.chart" . }}
{{ include "svc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select this release's pods; never change them after the first install. */}}
{{- define "svc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "svc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Egress to the cluster's DNS (UDP and TCP 53), for every pod of the release. */}}
{{- define "svc.dnsEgressRule" -}}
- to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 8 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{- define "svc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "svc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest when a digest is given, else repository:tag. */}}
{{- define "svc.image" -}}
{{- $repository := required "image.repository is not set: set it to the image CI published (its publish job prints the name and the digest)" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* True when more than one pod can run at once: spread them. */}}
{{- define "svc.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
A quantity as a number of milli-units (cpu: millicores; memory and storage: thousandths of a byte), so that
"4", "4000m", "4Gi" and "4096Mi" compare as the API server compares them. Takes what the schema's quantity
pattern accepts (helm reads numbers as floats: 268435456 arrives as 2.68435456e+08).
*/}}
{{- define "svc.milli" -}}
{{- $quantity := toString . }}
{{- $number := regexFind `^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)` $quantity }}
{{- $suffix := trimPrefix $number $quantity }}
{{- $scale := dict "" 1000.0 "n" 0.000001 "u" 0.001 "m" 1.0 "k" 1e6 "M" 1e9 "G" 1e12 "T" 1e15 "P" 1e18 "E" 1e21 "Ki" 1024e3 "Mi" 1048576e3 "Gi" 1073741824e3 "Ti" 1099511627776e3 "Pi" 1125899906842624e3 "Ei" 1152921504606846976e3 }}
{{- if hasKey $scale $suffix }}
{{- ceil (mulf (float64 $number) (get $scale $suffix)) }}
{{- else }}
{{- ceil (mulf (float64 $quantity) 1000) }}
{{- end }}
{{- end }}

{{/*
Checks the schema cannot express: each fails with one line naming the value and the rule. Rendered from
deployment.yaml, so every install, upgrade and template runs them (helm lint does not stop at `fail`).
*/}}
{{- define "svc.validate" -}}
{{- if has .Release.Namespace (list "default" "kube-system" "kube-public" "kube-node-lease") }}
{{- fail (printf "refusing to install into the %q namespace: create the service's own namespace (deploy/namespace.yaml) and pass --namespace" .Release.Namespace) }}
{{- end }}
{{- $drainMs := add .Values.config.shutdownDelayMs .Values.config.shutdownTimeoutMs }}
{{- if le (mul .Values.terminationGracePeriodSeconds 1000) $drainMs }}
{{- fail (printf "terminationGracePeriodSeconds (%v s) must exceed config.shutdownDelayMs + config.shutdownTimeoutMs (%v ms), or pods are killed mid-drain" .Values.terminationGracePeriodSeconds $drainMs) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- include "svc.validateNames" . }}
{{- include "svc.validateLabels" . }}
{{- include "svc.validatePortsAndMounts" . }}
{{- include "svc.validateResources" . }}
{{- include "svc.validateIngress" . }}
{{- include "svc.validateHTTPRoute" . }}
{{- include "svc.validateEnv" . }}
{{- include "svc.validateRbac" . }}
{{- end }}

{{/* Object names: every Service name is a DNS-1035 label (RFC 1035: starts with a letter). */}}
{{- define "svc.validateNames" -}}
{{- with .Values.nameOverride }}
{{- if not (regexMatch `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$` .) }}
{{- fail (printf "nameOverride %q is not a DNS-1123 label (it is part of every object name): lowercase letters, digits and '-', a letter or digit at each end, at most 63 characters" .) }}
{{- end }}
{{- end }}
{{- with .Values.fullnameOverride }}
{{- if not (regexMatch `^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$` .) }}
{{- fail (printf "fullnameOverride %q is not a DNS-1035 label (it names the Service): lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters" .) }}
{{- end }}
{{- end }}
{{- $fullname := include "svc.fullname" . }}
{{- if not (regexMatch `^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$` $fullname) }}
{{- fail (printf "release name %q makes the Service name %q, which is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter): use a release name that starts with a letter and has no dot, or set fullnameOverride" .Release.Name $fullname) }}
{{- end }}
{{- end }}

{{/* Label values (image.tag becomes app.kubernetes.io/version) and extra labels that would repeat the chart's own. */}}
{{- define "svc.validateLabels" -}}
{{- $labelValue := `^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$` }}
{{- $version := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if not (regexMatch $labelValue $version) }}
{{- fail (printf "image.tag %q cannot be the app.kubernetes.io/version label: a label value is at most 63 letters, digits, '-', '_' or '.', with a letter or digit at each end (deploy other tags by image.digest)" $version) }}
{{- end }}
{{- $chartLabels := include "svc.labels" . | fromYaml }}
{{- range $field, $labels := dict "podLabels" .Values.podLabels "metrics.serviceMonitor.labels" .Values.metrics.serviceMonitor.labels }}
{{- range $key, $value := $labels }}
{{- if hasKey $chartLabels $key }}
{{- fail (printf "%s.%s repeats a label the chart sets itself (%s: %s): remove it" $field $key $key (get $chartLabels $key)) }}
{{- end }}
{{- if not (regexMatch `^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$` $key) }}
{{- fail (printf "%s key %q is not a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', with a letter or digit at each end" $field $key) }}
{{- end }}
{{- if not (regexMatch $labelValue (toString $value)) }}
{{- fail (printf "%s.%s value %q is not a label value: at most 63 letters, digits, '-', '_' or '.', with a letter or digit at each end" $field $key $value) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* One port per Service port and container port; one volume per mount path. */}}
{{- define "svc.validatePortsAndMounts" -}}
{{- if .Values.metrics.enabled }}
{{- if eq (int .Values.metrics.port) (int .Values.service.port) }}
{{- fail (printf "metrics.port (%v) equals service.port: a Service cannot expose one port twice; choose another metrics.port" .Values.metrics.port) }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.containerPort) }}
{{- fail (printf "metrics.port (%v) equals containerPort: the service and its metrics listen on a port each; choose another metrics.port" .Values.metrics.port) }}
{{- end }}
{{- end }}
{{- $taken := list "/" "/tmp" }}
{{- if .Values.rbac.create }}{{ $taken = append $taken "/var/run/secrets/kubernetes.io/serviceaccount" }}{{ end }}
{{- if has (clean .Values.secrets.mountPath) $taken }}
{{- fail (printf "secrets.mountPath %q is already a mount of the container (%s): a container mounts one volume per path; use e.g. /run/secrets" .Values.secrets.mountPath (join ", " $taken)) }}
{{- end }}
{{- end }}

{{/*
Resources as the API server and the namespace (deploy/namespace.yaml, mirrored in namespaceLimits) admit them:
requests at most limits, limits at most the LimitRange maximum, and the pods at their peak within the quota.
*/}}
{{- define "svc.validateResources" -}}
{{- $resources := .Values.resources }}
{{- $quota := .Values.namespaceLimits.quota }}
{{- range $name := list "cpu" "memory" "ephemeral-storage" }}
{{- $request := index $resources.requests $name }}
{{- $limit := index $resources.limits $name }}
{{- if gt (float64 (include "svc.milli" $request)) (float64 (include "svc.milli" $limit)) }}
{{- fail (printf "resources.requests.%s (%v) exceeds resources.limits.%s (%v): a request must not exceed its limit" $name $request $name $limit) }}
{{- end }}
{{- $max := index $.Values.namespaceLimits.containerMax $name }}
{{- if gt (float64 (include "svc.milli" $limit)) (float64 (include "svc.milli" $max)) }}
{{- fail (printf "resources.limits.%s (%v) exceeds the namespace's LimitRange maximum per container (%v in deploy/namespace.yaml, namespaceLimits.containerMax)" $name $limit $max) }}
{{- end }}
{{- end }}
{{- $source := ternary "autoscaling.maxReplicas" "replicaCount" .Values.autoscaling.enabled }}
{{- $replicas := int (ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled) }}
{{- /* The Deployment's maxSurge of 25% rounds up: that many extra pods run during a rollout. */}}
{{- $pods := add $replicas (div (add $replicas 3) 4) }}
{{- $peak := printf "%d pods at the peak of a rollout (%s %d plus the 25%% surge)" $pods $source $replicas }}
{{- if gt (mulf $pods 1000) (float64 (include "svc.milli" (index $quota "pods"))) }}
{{- fail (printf "%s exceed the namespace's ResourceQuota of %v pods (deploy/namespace.yaml, namespaceLimits.quota)" $peak (index $quota "pods")) }}
{{- end }}
{{- range $kind := list "requests" "limits" }}
{{- range $name := list "cpu" "memory" "ephemeral-storage" }}
{{- $key := printf "%s.%s" $kind $name }}
{{- $each := index $resources $kind $name }}
{{- if gt (mulf $pods (float64 (include "svc.milli" $each))) (float64 (include "svc.milli" (index $quota $key))) }}
{{- fail (printf "resources.%s.%s (%v) × %s exceeds the namespace's ResourceQuota %s (%v in deploy/namespace.yaml, namespaceLimits.quota)" $kind $name $each $peak $key (index $quota $key)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if ne .Values.service.type "ClusterIP" }}
{{- if eq (float64 (include "svc.milli" (index $quota "services.nodeports"))) 0.0 }}
{{- fail (printf "service.type %s allocates node ports and the namespace's ResourceQuota allows none (services.nodeports: 0 in deploy/namespace.yaml): keep ClusterIP and expose the service through httpRoute or ingress" .Values.service.type) }}
{{- end }}
{{- if and (eq .Values.service.type "LoadBalancer") (eq (float64 (include "svc.milli" (index $quota "services.loadbalancers"))) 0.0) }}
{{- fail "service.type LoadBalancer: the namespace's ResourceQuota allows no load balancer (services.loadbalancers: 0 in deploy/namespace.yaml): keep ClusterIP and expose the service through httpRoute or ingress" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Ingress hosts are lowercase DNS names, and every one of them is served over TLS. */}}
{{- define "svc.validateIngress" -}}
{{- if .Values.ingress.enabled }}
{{- $dnsName := `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$` }}
{{- $tlsHosts := list }}
{{- range $i, $tls := .Values.ingress.tls }}
{{- range $j, $host := $tls.hosts }}
{{- if or (not (regexMatch $dnsName $host)) (gt (len $host) 253) (regexMatch `^[0-9.]+$` $host) }}
{{- fail (printf "ingress.tls[%d].hosts[%d] %q is not a lowercase DNS name (RFC 1123: letters a-z, digits, '-' and '.', optionally starting with \"*.\"; not an IP address), as the Ingress API requires" $i $j $host) }}
{{- end }}
{{- $tlsHosts = append $tlsHosts $host }}
{{- end }}
{{- end }}
{{- range $i, $rule := .Values.ingress.hosts }}
{{- if or (not (regexMatch $dnsName $rule.host)) (gt (len $rule.host) 253) (regexMatch `^[0-9.]+$` $rule.host) }}
{{- fail (printf "ingress.hosts[%d].host %q is not a lowercase DNS name (RFC 1123: letters a-z, digits, '-' and '.', optionally starting with \"*.\"; not an IP address), as the Ingress API requires" $i $rule.host) }}
{{- end }}
{{- if not (or (has $rule.host $tlsHosts) (has (regexReplaceAll `^[^.]+` $rule.host "*") $tlsHosts)) }}
{{- fail (printf "ingress.hosts[%d].host %q is not covered by any ingress.tls entry: every host is served over TLS only; add it (or a \"*.\" wildcard of its parent domain) to the hosts of a tls entry" $i $rule.host) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The route's hostnames are lowercase DNS names, as Gateway API requires (the schema checks them too); a route with none on a shared Gateway would take every hostname of its listener. */}}
{{- define "svc.validateHTTPRoute" -}}
{{- if .Values.httpRoute.enabled }}
{{- range $i, $host := .Values.httpRoute.hostnames }}
{{- if or (not (regexMatch `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$` $host)) (regexMatch `^[0-9.]+$` $host) }}
{{- fail (printf "httpRoute.hostnames[%d] %q is not a lowercase DNS name (RFC 1123: letters a-z, digits, '-' and '.', optionally starting with \"*.\"; not an IP address), as Gateway API requires" $i $host) }}
{{- end }}
{{- end }}
{{- if eq .Values.networkPolicy.dataPlane.implementation "none" }}
{{- fail "httpRoute.enabled is on but networkPolicy.dataPlane.implementation is none: the NetworkPolicy would drop every request the Gateway sends; set the Gateway's data plane (see the comment in values.yaml)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Secrets are files under SECRETS_DIR, never environment variables (they leak into logs, crash dumps and `kubectl describe`). */}}
{{- define "svc.validateEnv" -}}
{{- if not .Values.securityException.allowWeakerSecurity }}
{{- range $i, $env := .Values.extraEnv }}
{{- if regexMatch `(^|_)(KEYS?|PASS|CREDS|TOKENS?)(_|$)|TOKEN$|PASSWORD|PASSWD|PASSPHRASE|SECRET|CREDENTIAL|APIKEY|PRIVATEKEY|ACCESSKEY` (upper $env.name) }}
{{- fail (printf "extraEnv[%d] %s looks like a secret (PASSWORD, TOKEN, SECRET, KEY, CREDENTIAL...) and would sit in plain text in the Deployment: put it in the Secret named by secrets.existingSecret and read the file %s/<key> (SECRETS_DIR)" $i $env.name $.Values.secrets.mountPath) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
RBAC escalation paths, after the Kubernetes "Role Based Access Control Good Practices": refused unless
securityException.allowWeakerSecurity is set with a reason. Wildcards and escalate/bind/impersonate are
refused by the schema.
*/}}
{{- define "svc.validateRbac" -}}
{{- if and .Values.rbac.create (not .Values.securityException.allowWeakerSecurity) }}
{{- $writes := "create update patch delete deletecollection" }}
{{- $runsPods := "controls the pods of the namespace: any image, any service account" }}
{{- $escalations := dict
  "/pods/exec" (list "*" "runs commands in other pods")
  "/pods/attach" (list "*" "attaches to other pods' processes")
  "/pods/portforward" (list "*" "reaches other pods past their NetworkPolicy")
  "/pods/proxy" (list "*" "reaches other pods past their NetworkPolicy")
  "/services/proxy" (list "*" "reaches other services past their NetworkPolicy")
  "/pods/ephemeralcontainers" (list "*" "injects containers into running pods")
  "/serviceaccounts/token" (list "*" "mints tokens for any service account of the namespace")
  "/pods" (list $writes $runsPods)
  "/replicationcontrollers" (list $writes $runsPods)
  "apps/deployments" (list $writes $runsPods)
  "apps/replicasets" (list $writes $runsPods)
  "apps/statefulsets" (list $writes $runsPods)
  "apps/daemonsets" (list $writes $runsPods)
  "batch/jobs" (list $writes $runsPods)
  "batch/cronjobs" (list $writes $runsPods)
  "rbac.authorization.k8s.io/roles" (list "create update patch" "rewrites what service accounts may do")
  "rbac.authorization.k8s.io/rolebindings" (list "create update patch" "grants roles to any subject") }}
{{- range $i, $rule := .Values.rbac.rules }}
{{- range $group := $rule.apiGroups }}
{{- range $resource := $rule.resources }}
{{- $path := printf "%s/%s" $group $resource }}
{{- range $verb := $rule.verbs }}
{{- with get $escalations $path }}
{{- if or (eq (first .) "*") (has $verb (splitList " " (first .))) }}
{{- fail (printf "rbac.rules[%d] grants %s on %s, an escalation path (it %s): refused unless securityException.allowWeakerSecurity is true with a reason" $i $verb (trimPrefix "/" $path) (last .)) }}
{{- end }}
{{- end }}
{{- if and (eq $path "/secrets") (has $verb (list "get" "list" "watch")) (not $rule.resourceNames) }}
{{- fail (printf "rbac.rules[%d] grants %s on every Secret of the namespace: name the Secrets in resourceNames (or set securityException.allowWeakerSecurity with a reason)" $i $verb) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
