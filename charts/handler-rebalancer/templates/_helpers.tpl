{{/* The operator's one component, for the library chart's names and labels. */}}

{{- define "handler-rebalancer.fullname" -}}
{{- include "platform-lib.fullname" (dict "root" . "name" "operator") -}}
{{- end -}}

{{- define "handler-rebalancer.labels" -}}
{{ include "platform-lib.labels" (dict "root" . "name" "operator") }}
{{- end -}}

{{- define "handler-rebalancer.selectorLabels" -}}
{{ include "platform-lib.selectorLabels" (dict "root" . "name" "operator") }}
{{- end -}}

{{/* What the operator may do: read pods and pools, write pool status and events. */}}
{{- define "handler-rebalancer.watchRules" -}}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [chat.platform.dev]
  resources: [handlerpools]
  verbs: [get, list, watch]
- apiGroups: [chat.platform.dev]
  resources: [handlerpools/status]
  verbs: [get, update, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
