{{/*
Labels of every object: the app.kubernetes.io set plus the component it belongs to.
Call with (dict "root" $ "component" "kafka").
*/}}
{{- define "infra.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: platform
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels of monitors and rules: kube-prometheus-stack only loads those carrying its release label.
*/}}
{{- define "infra.monitoringLabels" -}}
{{ include "infra.labels" . }}
release: {{ .root.Values.monitoring.release | quote }}
{{- end }}

{{/*
Relabeling that tags every scraped series with the infra component, so one alert covers all targets.
*/}}
{{- define "infra.componentRelabeling" -}}
- action: replace
  targetLabel: infra_component
  replacement: {{ . }}
{{- end }}

{{/*
Name of the vtgate users Secret: the one given, or the chart's own.
*/}}
{{- define "infra.vitessUsersSecret" -}}
{{- .Values.vitess.auth.existingSecret | default (printf "%s-vitess-config" .Values.vitess.name) }}
{{- end }}
