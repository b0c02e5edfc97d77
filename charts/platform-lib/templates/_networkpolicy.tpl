{{/*
Ingress to a component: from the components named in its allowFrom, from the
monitoring namespace (scrapes), and from anywhere when it is public. extraIngress
(optional, a YAML list of ingress rules) lets others in to ports besides http.
*/}}
{{- define "platform-lib.networkPolicy" -}}
{{- $root := .root -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "platform-lib.fullname" . }}
  labels:
    {{- include "platform-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "platform-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    {{- if .component.public }}
    - ports:
        - port: http
    {{- else }}
    - ports:
        - port: http
      from:
        {{- range .component.allowFrom }}
        - podSelector:
            matchLabels:
              {{- include "platform-lib.selectorLabels" (dict "root" $root "name" .) | nindent 14 }}
        {{- end }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $root.Values.monitoring.namespace }}
    {{- end }}
    {{- with .extraIngress }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end -}}
