{{/*
The roles of the hotel booking system: the name a role runs under (its
component label, its objects' names and the argument of main.ts), the values
block that configures it, and the variable its port is passed in. A new role is
one more line here, a values block, and six one-line template files.
*/}}
{{- define "hotel-booking.roles" -}}
api: { values: api, portVariable: PORT }
hold-releaser: { values: holdReleaser, portVariable: RELEASER_PORT }
event-relay: { values: eventRelay, portVariable: RELAY_PORT }
notifier: { values: notifier, portVariable: NOTIFIER_PORT }
archiver: { values: archiver, portVariable: ARCHIVER_PORT }
search-indexer: { values: searchIndexer, portVariable: SEARCH_INDEXER_PORT }
{{- end -}}

{{/* The arguments for the library's templates, one role at a time (root added by the caller). */}}
{{- define "hotel-booking.component" -}}
{{- $root := .root -}}
{{- $role := get (include "hotel-booking.roles" . | fromYaml) .name -}}
{{- if not $role -}}
{{- fail (printf "hotel-booking has no role %q" .name) -}}
{{- end -}}
{{- toYaml (dict
      "name" .name
      "component" (get $root.Values $role.values)
      "args" (list "services/hotel-booking/src/main.ts" .name)
      "portVariable" $role.portVariable
      "extraEnv" (include "hotel-booking.secretEnv" $root | trim)) -}}
{{- end -}}

{{/* Calls a library template for one role: (dict "root" $ "name" "api" "template" "deployment"). */}}
{{- define "hotel-booking.render" -}}
{{- $args := include "hotel-booking.component" . | fromYaml -}}
{{- $_ := set $args "root" .root -}}
{{- include (printf "platform-lib.%s" .template) $args -}}
{{- end -}}

{{- define "hotel-booking.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "platform-lib.base" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The Secret's keys as env. HOLD_REDIS_URL and PAYMENT_WEBHOOK_SECRET are
optional: an existing Secret may leave them out, and an empty value counts as
unset (the hold keys then live in the Redis Cluster; payment callbacks are
checked against the public development secret, and the API warns).
*/}}
{{- define "hotel-booking.secretEnv" -}}
{{- $secret := include "hotel-booking.secretName" . -}}
{{- $keys := list "MYSQL_URL" -}}
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
- name: HOLD_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: HOLD_REDIS_URL
      optional: true
- name: PAYMENT_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: PAYMENT_WEBHOOK_SECRET
      optional: true
{{- end -}}
