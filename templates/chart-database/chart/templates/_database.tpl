{{/* The database's connection, as environment variables: the service's user, or the migrations' (user "migrations"). */}}
{{- define "svc.databaseEnv" -}}
{{- $db := .Values.database -}}
- name: DB_HOST
  value: {{ $db.host | quote }}
- name: DB_PORT
  value: {{ $db.port | quote }}
- name: DB_NAME
  value: {{ $db.name | quote }}
- name: DB_USER
  value: {{ $db.user | quote }}
- name: DB_TLS_CA_FILE
  value: /run/database-tls/ca.crt
- name: DB_POOL_MAX
  value: {{ $db.poolMax | quote }}
- name: DB_CONNECT_TIMEOUT_MS
  value: {{ $db.connectTimeoutMs | quote }}
- name: DB_STATEMENT_TIMEOUT_MS
  value: {{ $db.statementTimeoutMs | quote }}
- name: DB_READINESS_CACHE_MS
  value: {{ $db.readinessCacheMs | quote }}
{{- end }}

{{- define "svc.databaseVolumeMount" -}}
- name: database-tls
  mountPath: /run/database-tls
  readOnly: true
{{- end }}

{{- define "svc.databaseVolume" -}}
{{ include "svc.caVolume" (dict "server" .Values.database "name" "database-tls") }}
{{- end }}

{{/* The migrations Job's pods: not the service's (its Service, PodDisruptionBudget and NetworkPolicy do not select them). */}}
{{- define "svc.migrationsLabels" -}}
helm.sh/chart: {{ include "svc.chart" . }}
app.kubernetes.io/name: {{ printf "%s-migrations" (include "svc.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: migrations
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "svc.migrationsName" -}}
{{- printf "%s-migrations" (include "svc.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
