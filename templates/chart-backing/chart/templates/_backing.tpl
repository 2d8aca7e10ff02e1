{{/*
What the database's and Redis's templates share. Each takes a dict: "server" is .Values.database or .Values.redis,
"name" the volume's name.
*/}}

{{/* A NetworkPolicy egress rule to one server: its port only (TCP), to its pods in its namespace, or to its cidr. */}}
{{- define "svc.backingEgressRule" -}}
{{- $egress := .server.egress -}}
- to:
    {{- if $egress.cidr }}
    - ipBlock:
        cidr: {{ $egress.cidr }}
    {{- else }}
    - namespaceSelector:
        {{- toYaml $egress.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml $egress.podSelector | nindent 8 }}
    {{- end }}
  ports:
    - port: {{ .server.port }}
      protocol: TCP
{{- end }}

{{/* The CA that signed the server's certificate, as a read-only volume holding ca.crt. */}}
{{- define "svc.caVolume" -}}
{{- $ca := .server.tls.ca -}}
- name: {{ .name }}
  {{- if $ca.secretName }}
  secret:
    secretName: {{ $ca.secretName }}
    defaultMode: 292
    items:
      - key: {{ $ca.key }}
        path: ca.crt
  {{- else }}
  configMap:
    name: {{ required (printf "%s: tls.ca.configMapName or tls.ca.secretName is required: the CA that verifies the server" .name) $ca.configMapName }}
    defaultMode: 292
    items:
      - key: {{ $ca.key }}
        path: ca.crt
  {{- end }}
{{- end }}
