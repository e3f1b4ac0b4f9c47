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
app.kubernetes.io/version: {{ include "service-base.imageTag" . | quote }}
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
The tag stable runs. The stack file pins image.tag (the floor); when Argo CD Image Updater moves the
service (image.updates names its strategy), the tag it wrote back to Git (updatedImage.tag, in the
Application's images/<env>.yaml) runs instead, and under semver never one below the floor.
*/}}
{{- define "service-base.imageTag" -}}
{{- $v := .Values -}}
{{- $written := "" -}}
{{- if and $v.image.updates $v.updatedImage -}}
{{- $written = toString ($v.updatedImage.tag | default "") -}}
{{- end -}}
{{- if not $written -}}
{{- $v.image.tag -}}
{{- else if ne (toString $v.image.updates) "semver" -}}
{{- $written -}}
{{- else if not (regexMatch "^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$" $written) -}}
{{- fail (printf "updatedImage.tag is %q, not a semver tag, while image.updates is semver; fix the write-back file or let Image Updater rewrite it" $written) -}}
{{- else if ge ((semver $written).Compare (semver (toString $v.image.tag))) 0 -}}
{{- $written -}}
{{- else -}}
{{- $v.image.tag -}}
{{- end -}}
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
