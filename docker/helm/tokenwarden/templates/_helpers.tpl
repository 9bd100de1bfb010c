{{- define "tokenwarden.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tokenwarden.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tokenwarden.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: sidecar
{{- end -}}

{{/* The Secret holding what the chart was given as values. */}}
{{- define "tokenwarden.secretName" -}}
{{- printf "%s-secrets" (include "tokenwarden.fullname" .) -}}
{{- end -}}

{{- define "tokenwarden.apiKeySecret" -}}
{{- if .Values.apiKey.existingSecret -}}{{ .Values.apiKey.existingSecret }}{{- else -}}{{ include "tokenwarden.secretName" . }}{{- end -}}
{{- end -}}

{{- define "tokenwarden.tokenKeySecret" -}}
{{- if .Values.tokenKey.existingSecret -}}{{ .Values.tokenKey.existingSecret }}{{- else -}}{{ include "tokenwarden.secretName" . }}{{- end -}}
{{- end -}}

{{/* The configuration file: the user's config, listening on every
address, with the fleet's Redis section. */}}
{{- define "tokenwarden.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%v" .Values.service.port) -}}
{{- $redis := dict "url" (dict "env" "TOKENWARDEN_REDIS_URL") "tokenKey" (dict "env" "TOKENWARDEN_TOKEN_KEY") -}}
{{- if .Values.tokenKey.previous.enabled -}}
{{- $_ := set $redis "previousTokenKey" (dict "env" "TOKENWARDEN_PREVIOUS_TOKEN_KEY") -}}
{{- end -}}
{{- $_ := set $cfg "redis" $redis -}}
{{- toPrettyJson $cfg -}}
{{- end -}}
