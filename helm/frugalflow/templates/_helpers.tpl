{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "frugalflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or fullnameOverride. */}}
{{- define "frugalflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "frugalflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "frugalflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "frugalflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "frugalflow.labels" -}}
helm.sh/chart: {{ include "frugalflow.chart" . }}
{{ include "frugalflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "frugalflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "frugalflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "frugalflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* A contract topic's name with the deployment's prefix. */}}
{{- define "frugalflow.topic" -}}
{{- printf "%s%s" .root.Values.topicPrefix .name }}
{{- end }}

{{/*
Checks the schema cannot express on its own; also guards `--skip-schema-validation`.
*/}}
{{- define "frugalflow.validate" -}}
{{- if gt (int .Values.replicas) (int .Values.partitions) }}
{{- fail (printf "replicas (%d) must be <= partitions (%d): workers beyond the partition count sit idle" (int .Values.replicas) (int .Values.partitions)) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicas) (int .Values.partitions)) }}
{{- fail (printf "keda.maxReplicas (%d) must be <= partitions (%d)" (int .Values.keda.maxReplicas) (int .Values.partitions)) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicas) (int .Values.keda.maxReplicas)) }}
{{- fail "keda.minReplicas must be <= keda.maxReplicas" }}
{{- end }}
{{- if le (float64 .Values.terminationGracePeriodSeconds) (mulf 2.5 (float64 .Values.providerTimeoutSeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed 2.5 x providerTimeoutSeconds (%v)" .Values.terminationGracePeriodSeconds .Values.providerTimeoutSeconds) }}
{{- end }}
{{- end }}

{{/* The API's pods: their own name label, so the workers' selectors never match them. */}}
{{- define "frugalflow.api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "frugalflow.name" . }}-api
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "frugalflow.api.labels" -}}
helm.sh/chart: {{ include "frugalflow.chart" . }}
{{ include "frugalflow.api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: api
{{- end }}
