{{/* Redis's connection, as environment variables. */}}
{{- define "svc.redisEnv" -}}
- name: REDIS_HOST
  value: {{ .Values.redis.host | quote }}
- name: REDIS_PORT
  value: {{ .Values.redis.port | quote }}
{{- with .Values.redis.user }}
- name: REDIS_USER
  value: {{ . | quote }}
{{- end }}
- name: REDIS_TLS_CA_FILE
  value: /run/redis-tls/ca.crt
- name: REDIS_COMMAND_TIMEOUT_MS
  value: {{ .Values.redis.commandTimeoutMs | quote }}
{{- end }}

{{- define "svc.redisVolumeMount" -}}
- name: redis-tls
  mountPath: /run/redis-tls
  readOnly: true
{{- end }}

{{- define "svc.redisVolume" -}}
{{ include "svc.caVolume" (dict "server" .Values.redis "name" "redis-tls") }}
{{- end }}
