{{/* Names and labels shared by every template. */}}
{{- define "marri.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "marri.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "marri.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "marri.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "marri.databaseSecret" -}}
{{- if .Values.database.existingSecret -}}
{{ .Values.database.existingSecret }}
{{- else -}}
{{ include "marri.fullname" . }}-database
{{- end -}}
{{- end -}}

{{- define "marri.keysSecret" -}}
{{- if .Values.keys.existingSecret -}}
{{ .Values.keys.existingSecret }}
{{- else -}}
{{ include "marri.fullname" . }}-keys
{{- end -}}
{{- end -}}

{{/* Environment every gateway container gets: database, keys, channels, telemetry. */}}
{{- define "marri.env" -}}
- name: MARRI_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "marri.databaseSecret" . }}
      key: MARRI_DATABASE_URL
- name: MARRI_KEYS_JSON
  valueFrom:
    secretKeyRef:
      name: {{ include "marri.keysSecret" . }}
      key: MARRI_KEYS_JSON
- name: MARRI_CHANNELS_FILE
  value: /etc/marri/channels/channels.yaml
{{- if .Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- range $name, $value := .Values.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "marri.envFrom" -}}
{{- if .Values.channels.credentialsSecret }}
envFrom:
  - secretRef:
      name: {{ .Values.channels.credentialsSecret }}
{{- end }}
{{- end -}}

{{- define "marri.volumeMounts" -}}
- name: channels
  mountPath: /etc/marri/channels
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.channels.tlsSecret }}
- name: channel-tls
  mountPath: /etc/marri/channel-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "marri.volumes" -}}
- name: channels
  configMap:
    name: {{ include "marri.fullname" . }}-channels
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.channels.tlsSecret }}
- name: channel-tls
  secret:
    secretName: {{ .Values.channels.tlsSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "marri.podCommon" -}}
serviceAccountName: {{ include "marri.fullname" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
