{{/*
Argo CD resource hooks from the stack file (services.<name>.hooks): a PreSync check, a PostSync smoke
test and a SyncFail Job, each a Job Argo CD runs at that point of a sync. Each is replaced at the
next sync (BeforeHookCreation), so the last run stays to read. They render with the Deployment, so
a split service runs them in the Application that rolls out the image.
*/}}
{{- define "service-base.hooks" -}}
{{- $root := . -}}
{{- $hooks := .Values.hooks | default dict -}}
{{- if include "service-base.renders" (list . "Deployment") -}}
{{- range $phase := list "PreSync" "PostSync" "SyncFail" -}}
{{- $key := printf "%s%s" (lower (substr 0 1 $phase)) (substr 1 (len $phase) $phase) -}}
{{- $hook := index $hooks $key -}}
{{- if $hook }}
---
{{ include "service-base.hookJob" (dict "root" $root "phase" $phase "hook" $hook) }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "service-base.hookJob" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $name := kebabcase .phase -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "service-base.fullname" $root }}-{{ $name }}
  labels:
    {{- include "service-base.labels" $root | nindent 4 }}
    converge.dev/hook: {{ $name }}
  annotations:
    argocd.argoproj.io/hook: {{ .phase }}
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
spec:
  backoffLimit: 0
  activeDeadlineSeconds: {{ .hook.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- /* Not the selector labels: the Service must never send traffic to a hook. */}}
        app.kubernetes.io/part-of: converge
        converge.dev/release: {{ $root.Release.Name }}
        converge.dev/hook: {{ $name }}
        {{- /* The version the hook tests: a test suite (or kwok's Stage) can single out one release. */}}
        converge.dev/version: {{ include "service-base.imageTag" $root | trunc 63 | trimSuffix "-" | trimSuffix "." | trimSuffix "_" | quote }}
        {{- with .hook.labels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ $name }}
          image: {{ .hook.image | default (printf "%s:%s" $v.image.repository (include "service-base.imageTag" $root)) | quote }}
          imagePullPolicy: IfNotPresent
          command:
            {{- toYaml .hook.command | nindent 12 }}
          env:
            - name: SERVICE_URL
              value: {{ printf "http://%s:%v" (include "service-base.host" $root) $v.service.port | quote }}
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              cpu: 200m
              memory: 128Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities:
              drop: ["ALL"]
{{- end -}}
