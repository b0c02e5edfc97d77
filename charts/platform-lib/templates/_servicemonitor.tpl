{{/*
Scrapes a component's /metrics. The job label is "<chart>-<component>"
("url-shortener-api") whatever the release is called, since the dashboards
and rules select on it. kube-prometheus-stack selects monitors by its
release label unless its selectors are opened.
*/}}
{{- define "platform-lib.serviceMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "platform-lib.fullname" . }}
  labels:
    {{- include "platform-lib.labels" . | nindent 4 }}
    release: {{ .root.Values.monitoring.release }}
spec:
  selector:
    matchLabels:
      {{- include "platform-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ .root.Values.monitoring.scrapeInterval }}
      relabelings:
        - targetLabel: job
          replacement: {{ printf "%s-%s" .root.Chart.Name .name }}
{{- end -}}
