{{/*
The navigation system has one process role, the API (services/navigation/src/main.ts):
routes, ETAs, places, traffic updates and WebSocket sessions, on a road graph it builds
from an OpenStreetMap extract at start. The extract comes from a volume (osm.configMap
or osm.persistentVolumeClaim) mounted at the directory OSM_DIR names, or, with neither,
from the image's own data/osm (the service's default OSM_DIR); the places are indexed
in OpenSearch, whose CA and account come from charts/infra's Secrets.
*/}}
{{- define "navigation.osmVolume" -}}
{{- or .Values.osm.persistentVolumeClaim .Values.osm.configMap -}}
{{- end -}}

{{- define "navigation.osmDir" -}}
/etc/platform/osm
{{- end -}}

{{- define "navigation.searchCaDir" -}}
/etc/platform/opensearch-ca
{{- end -}}

{{/* The arguments for the library's templates (root added by the caller). */}}
{{- define "navigation.component" -}}
{{- $root := .root -}}
{{- if ne .name "api" -}}
{{- fail (printf "navigation has no role %q" .name) -}}
{{- end -}}
{{- toYaml (dict
      "name" .name
      "component" $root.Values.api
      "args" (list "services/navigation/src/main.ts" .name)
      "portVariable" "PORT"
      "extraEnv" (include "navigation.env" $root | trim)
      "extraVolumes" (include "navigation.volumes" $root | trim)
      "extraVolumeMounts" (include "navigation.volumeMounts" $root | trim)) -}}
{{- end -}}

{{/* Calls a library template for the API: (dict "root" $ "name" "api" "template" "deployment"). */}}
{{- define "navigation.render" -}}
{{- $args := include "navigation.component" . | fromYaml -}}
{{- $_ := set $args "root" .root -}}
{{- include (printf "platform-lib.%s" .template) $args -}}
{{- end -}}

{{/*
OSM_DIR points at the mounted extract; OPENSEARCH_CA_FILE at the mounted CA; the account
from opensearch.credentialsSecret. An empty Secret name leaves that part out.
*/}}
{{- define "navigation.env" -}}
{{- if include "navigation.osmVolume" . }}
- name: OSM_DIR
  value: {{ include "navigation.osmDir" . | quote }}
{{- end }}
{{- with .Values.opensearch.caSecret }}
- name: OPENSEARCH_CA_FILE
  value: {{ printf "%s/ca.crt" (include "navigation.searchCaDir" $) | quote }}
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

{{- define "navigation.volumes" -}}
{{- if .Values.osm.persistentVolumeClaim }}
- name: osm
  persistentVolumeClaim:
    claimName: {{ .Values.osm.persistentVolumeClaim }}
    readOnly: true
{{- else if .Values.osm.configMap }}
- name: osm
  configMap:
    name: {{ .Values.osm.configMap }}
{{- end }}
{{- with .Values.opensearch.caSecret }}
- name: opensearch-ca
  secret:
    secretName: {{ . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}

{{- define "navigation.volumeMounts" -}}
{{- if include "navigation.osmVolume" . }}
- name: osm
  mountPath: {{ include "navigation.osmDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.opensearch.caSecret }}
- name: opensearch-ca
  mountPath: {{ include "navigation.searchCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
