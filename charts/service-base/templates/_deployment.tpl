{{/*
One Deployment per version: stable always, canary when enabled. Pods carry
`version: stable|canary`, which the DestinationRule subsets select.
Call with (dict "root" . "track" "stable"|"canary" "extra" <derived config>).
*/}}
{{- define "service-base.deployment" -}}
{{- $root := .root -}}
{{- include "service-base.checkValues" $root -}}
{{- $v := $root.Values -}}
{{- $canary := eq .track "canary" -}}
{{- $tag := ternary $v.canary.image.tag (include "service-base.imageTag" $root) $canary -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "service-base.fullname" $root }}{{ if $canary }}-canary{{ end }}
  labels:
    {{- include "service-base.labels" $root | nindent 4 }}
    version: {{ .track }}
spec:
  {{- /* With an autoscaler the stable replica count is its to set. */}}
  {{- if or $canary (not $v.autoscaling.enabled) }}
  replicas: {{ ternary $v.canary.replicaCount $v.replicaCount $canary }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
  selector:
    matchLabels:
      {{- include "service-base.selectorLabels" $root | nindent 6 }}
      version: {{ .track }}
  template:
    metadata:
      labels:
        {{- include "service-base.selectorLabels" $root | nindent 8 }}
        version: {{ .track }}
      annotations:
        checksum/config: {{ include "service-base.configData" . | sha256sum }}
    spec:
      serviceAccountName: {{ include "service-base.fullname" $root }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ $root.Chart.Name }}
          image: "{{ $v.image.repository }}:{{ $tag }}"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ $v.service.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "service-base.fullname" $root }}
            {{- /* Secrets made outside Git (services.<svc>.envFromSecrets); get: absent unless set */}}
            {{- with (get $v "envFromSecrets") }}
            {{- range . }}
            - secretRef:
                name: {{ . }}
            {{- end }}
            {{- end }}
          env:
            - name: SERVICE_VERSION
              value: {{ .track }}
          {{- with $v.startupProbe }}
          startupProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          readinessProbe:
            {{- toYaml $v.readinessProbe | nindent 12 }}
          livenessProbe:
            {{- toYaml $v.livenessProbe | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end -}}
