{{/*
The roles of the hotel booking system: the name a role runs under (its
component label, its objects' names and the argument of main.ts), the values
block that configures it, the variable its port is passed in, and whether it
opens the search index (services/hotel-booking/src/service.ts), which gets it
OpenSearch's CA and account. A new role is one more line here, a values block,
and six one-line template files.
*/}}
{{- define "hotel-booking.roles" -}}
api: { values: api, portVariable: PORT, search: true }
hold-releaser: { values: holdReleaser, portVariable: RELEASER_PORT, search: false }
event-relay: { values: eventRelay, portVariable: RELAY_PORT, search: false }
notifier: { values: notifier, portVariable: NOTIFIER_PORT, search: false }
archiver: { values: archiver, portVariable: ARCHIVER_PORT, search: false }
search-indexer: { values: searchIndexer, portVariable: SEARCH_INDEXER_PORT, search: true }
{{- end -}}

{{/* The arguments for the library's templates, one role at a time (root added by the caller). */}}
{{- define "hotel-booking.component" -}}
{{- $root := .root -}}
{{- $role := get (include "hotel-booking.roles" . | fromYaml) .name -}}
{{- if not $role -}}
{{- fail (printf "hotel-booking has no role %q" .name) -}}
{{- end -}}
{{- $env := include "hotel-booking.secretEnv" $root | trim -}}
{{- $volumes := "" -}}
{{- $mounts := "" -}}
{{- if $role.search -}}
{{- $env = printf "%s\n%s" $env (include "hotel-booking.searchEnv" $root | trim) | trim -}}
{{- $volumes = include "hotel-booking.searchVolumes" $root | trim -}}
{{- $mounts = include "hotel-booking.searchVolumeMounts" $root | trim -}}
{{- end -}}
{{- toYaml (dict
      "name" .name
      "component" (get $root.Values $role.values)
      "args" (list "services/hotel-booking/src/main.ts" .name)
      "portVariable" $role.portVariable
      "extraEnv" $env
      "extraVolumes" $volumes
      "extraVolumeMounts" $mounts) -}}
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


{{/*
OpenSearch's CA and account, for the roles that open the search index. The CA
certificate is mounted from opensearch.caSecret (key ca.crt) and named by
OPENSEARCH_CA_FILE; the account comes from opensearch.credentialsSecret (keys
username and password). charts/infra copies both into this namespace. An empty
name leaves that part out: the system's default CAs, or no credentials.
*/}}
{{- define "hotel-booking.searchCaDir" -}}
/etc/platform/opensearch-ca
{{- end -}}

{{- define "hotel-booking.searchEnv" -}}
{{- with .Values.opensearch.caSecret }}
- name: OPENSEARCH_CA_FILE
  value: {{ printf "%s/ca.crt" (include "hotel-booking.searchCaDir" $) | quote }}
{{- end }}
{{- with .Values.opensearch.credentialsSecret }}
- name: OPENSEARCH_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: username
- name: OPENSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: password
{{- end }}
{{- end -}}

{{- define "hotel-booking.searchVolumes" -}}
{{- with .Values.opensearch.caSecret }}
- name: opensearch-ca
  secret:
    secretName: {{ . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}

{{- define "hotel-booking.searchVolumeMounts" -}}
{{- if .Values.opensearch.caSecret }}
- name: opensearch-ca
  mountPath: {{ include "hotel-booking.searchCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
