{{/* Name of every object of the release; the Service keeps it so clients need no change. */}}
{{- define "service-base.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "service-base.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "service-base.labels" -}}
{{ include "service-base.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/part-of: converge
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
converge.dev/environment: {{ .Values.environment | quote }}
{{- end -}}

{{/* Host the routing targets: the Service's cluster-local name. */}}
{{- define "service-base.host" -}}
{{ include "service-base.fullname" . }}.{{ .Release.Namespace }}.svc.cluster.local
{{- end -}}

{{/*
Fails the render on values Converge would never produce: a missing tag, or canary weights that
are out of range or do not split 100. Hand edits of values files meet the same rules as the config.
*/}}
{{- define "service-base.checkValues" -}}
{{- if not .Values.image.tag -}}
{{- fail "image.tag is empty; set a release tag, e.g. 1.4.2" -}}
{{- end -}}
{{- if .Values.canary.enabled -}}
{{- if not .Values.canary.image.tag -}}
{{- fail "canary.image.tag is empty while canary.enabled is true; set the tag the canary runs" -}}
{{- end -}}
{{- $w := .Values.canary.weights -}}
{{- range $name, $value := $w -}}
{{- if or (lt (int $value) 0) (gt (int $value) 100) -}}
{{- fail (printf "canary.weights.%s is %v; it must be between 0 and 100" $name $value) -}}
{{- end -}}
{{- end -}}
{{- if ne (add (int $w.stable) (int $w.canary)) 100 -}}
{{- fail (printf "canary.weights: stable %v + canary %v must be 100 (stable gets 100 - canary)" $w.stable $w.canary) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Whether this release renders a kind. Converge may split a service into a self-healing Argo CD
Application and a guarded one (self-heal off, for kinds whose drift waits for approval); each
renders its share of the chart through converge.renderKinds or converge.skipKinds.
Call with (list <root context> "Kind"); renders "true" or nothing.
*/}}
{{- define "service-base.renders" -}}
{{- $root := index . 0 -}}
{{- $kind := index . 1 -}}
{{- $c := $root.Values.converge | default dict -}}
{{- $only := $c.renderKinds | default list -}}
{{- $skip := $c.skipKinds | default list -}}
{{- if and (or (empty $only) (has $kind $only)) (not (has $kind $skip)) -}}true{{- end -}}
{{- end -}}
