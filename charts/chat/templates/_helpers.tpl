{{/*
The chat system's process roles (services/chat/src/main.ts): the handlers ("api,handler": the
REST API, the WebSocket endpoint /ws and, on a port of its own, the admin contract the
rebalancing operator calls) and the fan-out worker ("fanout"). Every role reads the Secret's
credentials; a handler is named after its pod, the name the operator knows it by.
*/}}
{{- define "chat.component" -}}
{{- $root := .root -}}
{{- $roles := dict
      "handler" (dict "values" $root.Values.handler "arg" "api,handler")
      "fanout" (dict "values" $root.Values.fanout "arg" "fanout") -}}
{{- $role := get $roles .name -}}
{{- if not $role -}}
{{- fail (printf "chat has no role %q" .name) -}}
{{- end -}}
{{- $args := dict
      "name" .name
      "component" $role.values
      "args" (list "services/chat/src/main.ts" $role.arg)
      "portVariable" "PORT"
      "extraEnv" (include "chat.secretEnv" $root | trim) -}}
{{- if eq .name "handler" -}}
{{- $_ := set $args "extraEnv" (printf "%s\n%s" (include "chat.handlerEnv" $root | trim) $args.extraEnv) -}}
{{- $_ := set $args "extraPorts" (include "chat.adminPort" $root | trim) -}}
{{- $_ := set $args "extraIngress" (include "chat.adminIngress" $root | trim) -}}
{{- $_ := set $args "terminationGracePeriodSeconds" (include "chat.handlerGrace" $root | int) -}}
{{- $_ := set $args "extraVolumes" (include "chat.assetsVolume" $root | trim) -}}
{{- $_ := set $args "extraVolumeMounts" (include "chat.assetsMount" $root | trim) -}}
{{- end -}}
{{- toYaml $args -}}
{{- end -}}

{{/* Calls a library template for one role: (dict "root" $ "name" "handler" "template" "deployment"). */}}
{{- define "chat.render" -}}
{{- $args := include "chat.component" . | fromYaml -}}
{{- $_ := set $args "root" .root -}}
{{- include (printf "platform-lib.%s" .template) $args -}}
{{- end -}}

{{/*
Seconds a handler pod may take to stop: the preStop sleep, then SIGTERM's drain over
DRAIN_GRACE_MS (the role's own env wins over the chart's), then 10 s for the last closes and
the HTTP server.
*/}}
{{- define "chat.handlerGrace" -}}
{{- $env := merge (deepCopy (default dict .Values.handler.env)) (default dict .Values.env) -}}
{{- $graceMs := int (default 20000 (get $env "DRAIN_GRACE_MS")) -}}
{{- add .Values.handler.drainSeconds (div (add $graceMs 999) 1000) 10 -}}
{{- end -}}

{{- define "chat.handlerEnv" -}}
- name: ADMIN_PORT
  value: {{ .Values.handler.adminPort | quote }}
- name: OBJECT_STORE_DIR
  value: {{ include "chat.assetsPath" . }}
- name: HANDLER_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{- define "chat.adminPort" -}}
- name: admin
  containerPort: {{ .Values.handler.adminPort }}
  protocol: TCP
{{- end -}}

{{/* The admin port: the rebalancing operator's pods only (charts/handler-rebalancer). */}}
{{- define "chat.adminIngress" -}}
- ports:
    - port: admin
  from:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: handler-rebalancer
          app.kubernetes.io/component: operator
      {{- with .Values.rebalancing.operatorNamespace }}
      namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ . }}
      {{- end }}
{{- end -}}

{{- define "chat.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "platform-lib.base" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "chat.secretEnv" -}}
{{- $secret := include "chat.secretName" . -}}
{{- $keys := list "MYSQL_URL" "TOKEN_SECRET" -}}
{{- if or .Values.secrets.cassandraUsername (not .Values.secrets.create) -}}
{{- $keys = concat $keys (list "CASSANDRA_USERNAME" "CASSANDRA_PASSWORD") -}}
{{- end -}}
{{- range $keys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{/* The handlers' asset folder (the REST API stores uploads there): a claim, or an emptyDir. */}}
{{- define "chat.assetsPath" -}}/var/lib/chat/assets{{- end -}}

{{- define "chat.assetsVolume" -}}
- name: assets
  {{- if .Values.assets.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.assets.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.assets.sizeLimit }}
  {{- end }}
{{- end -}}

{{- define "chat.assetsMount" -}}
- name: assets
  mountPath: {{ include "chat.assetsPath" . }}
  readOnly: false
{{- end -}}
