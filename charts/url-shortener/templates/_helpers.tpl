{{/* The arguments for the library's templates, one component at a time (root added by the caller). */}}
{{- define "url-shortener.component" -}}
{{- $root := .root -}}
{{- $roles := dict
      "api" (dict "values" $root.Values.api "portVariable" "PORT")
      "token-service" (dict "values" $root.Values.tokenService "portVariable" "TOKEN_SERVICE_PORT")
      "click-aggregator" (dict "values" $root.Values.clickAggregator "portVariable" "AGGREGATOR_PORT") -}}
{{- $role := get $roles .name -}}
{{- $extra := include "url-shortener.secretEnv" $root -}}
{{- if eq .name "api" -}}
{{- $tokenService := dict "root" $root "name" "token-service" -}}
{{- $extra = printf "%s\n- name: TOKEN_SERVICE_URLS\n  value: %s" $extra (printf "http://%s:%v" (include "platform-lib.fullname" $tokenService) $root.Values.tokenService.port | quote) -}}
{{- end -}}
{{- toYaml (dict
      "name" .name
      "component" $role.values
      "args" (list "services/url-shortener/src/main.ts" .name)
      "portVariable" $role.portVariable
      "extraEnv" $extra) -}}
{{- end -}}

{{/* Calls a library template for one component: (dict "root" $ "name" "api" "template" "deployment"). */}}
{{- define "url-shortener.render" -}}
{{- $args := include "url-shortener.component" . | fromYaml -}}
{{- $_ := set $args "root" .root -}}
{{- include (printf "platform-lib.%s" .template) $args -}}
{{- end -}}

{{- define "url-shortener.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "platform-lib.base" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "url-shortener.secretEnv" -}}
{{- $secret := include "url-shortener.secretName" . -}}
{{- $keys := list "MYSQL_URL" "CODE_SECRET" -}}
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
