{{/*
A service's Deployment:
  (dict "root" $ "name" "api" "component" .Values.api
        "args" (list "services/x/src/main.ts" "api") "portVariable" "PORT" "extraEnv" "<yaml>"
        "extraVolumes" "<yaml>" "extraVolumeMounts" "<yaml>" "extraPorts" "<yaml>"
        "terminationGracePeriodSeconds" 45)
The component's values give port, replicas, resources, drainSeconds and env;
the chart's values give the image, env shared by every component and pod
annotations; extraEnv adds env entries the chart computes (Secret references,
other services' addresses). extraVolumes and extraVolumeMounts (optional, YAML
lists) add pod volumes and the container's mounts of them, after the /tmp every
pod has; an extra mount is read-only, the root filesystem's rule, unless it says
readOnly: false (a role's own data, such as chat's asset folder). extraPorts
(optional, a YAML list) adds named container ports after http; a role whose
shutdown outlasts the default grace sets terminationGracePeriodSeconds.
*/}}
{{- define "platform-lib.deployment" -}}
{{- $c := .component -}}
{{- $values := .root.Values -}}
{{- /* Tilt's live update writes the synced sources into the container; node --watch reloads them. */}}
{{- $live := and $values.dev $values.dev.liveUpdate -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "platform-lib.fullname" . }}
  labels:
    {{- include "platform-lib.labels" . | nindent 4 }}
spec:
  {{- if not (and $c.autoscaling $c.autoscaling.enabled) }}
  replicas: {{ $c.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "platform-lib.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "platform-lib.labels" . | nindent 8 }}
      {{- with $values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "platform-lib.podSecurityContext" . | nindent 8 }}
      # Endpoints are removed while SIGTERM arrives; the preStop sleep covers the race. Then
      # up to 10 s of request drain and a role's last work (the shortener's final click
      # flush takes up to 8 s).
      terminationGracePeriodSeconds: {{ .terminationGracePeriodSeconds | default (add $c.drainSeconds 25) }}
      {{- with $values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "platform-lib.selectorLabels" . | nindent 14 }}
      containers:
        - name: {{ .name }}
          image: {{ include "platform-lib.image" . | quote }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          args:
            {{- if $live }}
            - --watch
            {{- end }}
            {{- toYaml .args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $c.port }}
              protocol: TCP
            {{- with .extraPorts }}
            {{- . | nindent 12 }}
            {{- end }}
          env:
            - name: {{ .portVariable }}
              value: {{ $c.port | quote }}
            {{- /* A component's own env wins over the chart-wide one. */}}
            {{- range $name, $value := merge (deepCopy (default dict $c.env)) (default dict $values.env) }}
            - name: {{ $name }}
              value: {{ include "platform-lib.envValue" $value | quote }}
            {{- end }}
            {{- with .extraEnv }}
            {{- . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $c.drainSeconds }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "platform-lib.containerSecurityContext" . | nindent 12 }}
            readOnlyRootFilesystem: {{ not $live }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- range $mount := (.extraVolumeMounts | default "" | fromYamlArray) }}
            {{- if not (hasKey $mount "readOnly") }}
            {{- $_ := set $mount "readOnly" true }}
            {{- end }}
            {{- toYaml (list $mount) | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with .extraVolumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}
