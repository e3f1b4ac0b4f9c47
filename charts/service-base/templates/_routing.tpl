{{/*
Istio routing, same layout as the IstioCanary construct: an optional header route to the canary,
then a weighted route splitting stable and canary by the weights Converge derives.
*/}}
{{- define "service-base.destinationRule" -}}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
spec:
  host: {{ include "service-base.host" . }}
  subsets:
    - name: stable
      labels:
        version: stable
    - name: canary
      labels:
        version: canary
{{- end -}}

{{- define "service-base.virtualService" -}}
{{- $host := include "service-base.host" . -}}
{{- $port := .Values.service.port -}}
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
spec:
  hosts:
    - {{ $host }}
    {{- range .Values.istio.gateway.hosts }}
    - {{ . }}
    {{- end }}
  {{- if .Values.istio.gateway.enabled }}
  gateways:
    - {{ include "service-base.fullname" . }}
    - mesh
  {{- end }}
  http:
    {{- if and .Values.canary.enabled .Values.canary.header }}
    - name: canary-header
      match:
        - headers:
            {{ .Values.canary.header.name }}:
              exact: {{ .Values.canary.header.value | quote }}
      route:
        - destination:
            host: {{ $host }}
            subset: canary
            port:
              number: {{ $port }}
    {{- end }}
    - name: weighted
      route:
        - destination:
            host: {{ $host }}
            subset: stable
            port:
              number: {{ $port }}
          {{- if .Values.canary.enabled }}
          weight: {{ .Values.canary.weights.stable }}
        - destination:
            host: {{ $host }}
            subset: canary
            port:
              number: {{ $port }}
          weight: {{ .Values.canary.weights.canary }}
          {{- end }}
{{- end -}}

{{- define "service-base.gateway" -}}
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: {{ include "service-base.fullname" . }}
  labels:
    {{- include "service-base.labels" . | nindent 4 }}
spec:
  selector:
    istio: ingressgateway
  servers:
    - port:
        number: 80
        name: http
        protocol: HTTP
      hosts:
        {{- toYaml .Values.istio.gateway.hosts | nindent 8 }}
{{- end -}}
