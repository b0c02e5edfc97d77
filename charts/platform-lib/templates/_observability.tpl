{{/*
A system's Grafana dashboard, loaded by Grafana's sidecar from ConfigMaps
labelled grafana_dashboard: "1": (dict "root" $ "file" "dashboards/x.json").
*/}}
{{- define "platform-lib.dashboard" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-dashboard" (include "platform-lib.base" .root) }}
  labels:
    {{- include "platform-lib.releaseLabels" .root | nindent 4 }}
    grafana_dashboard: "1"
  annotations:
    grafana_folder: platform
data:
  {{ base .file }}: |-
    {{- .root.Files.Get .file | nindent 4 }}
{{- end -}}

{{/* A system's SLO rules: the groups of a plain Prometheus rule file, as a PrometheusRule. */}}
{{- define "platform-lib.prometheusRule" -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ printf "%s-slo" (include "platform-lib.base" .root) }}
  labels:
    {{- include "platform-lib.releaseLabels" .root | nindent 4 }}
    release: {{ .root.Values.monitoring.release }}
spec:
  {{- $rules := .root.Files.Get .file | fromYaml }}
  {{- if not $rules.groups }}
  {{- fail (printf "%s has no rule groups" .file) }}
  {{- end }}
  groups:
    {{- toYaml $rules.groups | nindent 4 }}
{{- end -}}
