{{- define "service-base.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "service-base.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "service-base.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{/* Config data: base keys, the chart's `config` values, and what the chart derives (.extra). Call with (dict "root" . "extra" dict). */}}
{{- define "service-base.configData" -}}
{{- $v := .root.Values -}}
{{- $data := merge (dict) (.extra | default dict) ($v.config | default dict) (dict "LOG_LEVEL" $v.logLevel "ENVIRONMENT" $v.environment) -}}
{{- range $k, $val := $data }}
{{ $k }}: {{ $val | toString | quote }}
{{- end -}}
{{- end -}}

{{- define "service-base.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "service-base.fullname" .root }}
  labels:
    {{- include "service-base.labels" .root | nindent 4 }}
data:
  {{- include "service-base.configData" . | trim | nindent 2 }}
{{- end -}}

{{- define "service-base.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
spec:
  {{- if .Values.pdb.minAvailable }}
  minAvailable: {{ .Values.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "service-base.selectorLabels" . | nindent 6 }}
      version: stable
{{- end -}}
