{{/* Config the web front end derives from its values: where model-service answers. */}}
{{- define "app-service.derivedConfig" -}}
MODEL_SERVICE_URL: {{ required "modelService.url is required: the URL app-service calls model-service at" .Values.modelService.url | quote }}
MODEL_SERVICE_TIMEOUT: {{ .Values.modelService.timeout | quote }}
{{- end -}}
