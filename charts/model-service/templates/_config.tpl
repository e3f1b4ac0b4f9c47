{{/* Config the model API derives from its values: which model it serves. */}}
{{- define "model-service.derivedConfig" -}}
MODEL_NAME: {{ .Values.model.name | quote }}
MODEL_VERSION: {{ .Values.model.version | quote }}
MAX_BATCH_SIZE: {{ .Values.model.maxBatchSize | quote }}
{{- end -}}
