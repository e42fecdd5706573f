{{/* The release's base name, at most 52 characters (so suffixed names stay within 63). */}}
{{- define "sigma-aetl.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sigma-aetl.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (gateway, worker): pass (list $ "gateway"). */}}
{{- define "sigma-aetl.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "sigma-aetl.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "sigma-aetl.secretName" -}}
{{ .Values.secret.existingSecret | default (printf "%s-env" (include "sigma-aetl.fullname" .)) }}
{{- end -}}

{{/* The ConfigMap's data: each contract file, from the values or from the chart's files/contracts. */}}
{{- define "sigma-aetl.contractData" -}}
{{- if .Values.contracts.files -}}
{{- range $path, $content := .Values.contracts.files }}
{{ include "sigma-aetl.contractKey" $path }}: {{ $content | quote }}
{{- end -}}
{{- else -}}
{{- range $path, $_ := .Files.Glob "files/contracts/**" }}
{{ include "sigma-aetl.contractKey" (trimPrefix "files/contracts/" $path) }}: {{ $.Files.Get $path | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The contract paths inside the contracts directory, one per line. */}}
{{- define "sigma-aetl.contractPaths" -}}
{{- if .Values.contracts.files -}}
{{- range $path, $_ := .Values.contracts.files }}
{{ $path }}
{{- end -}}
{{- else -}}
{{- range $path, $_ := .Files.Glob "files/contracts/**" }}
{{ trimPrefix "files/contracts/" $path }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A ConfigMap key for a contract path: keys cannot hold "/", so it is written "__". */}}
{{- define "sigma-aetl.contractKey" -}}
{{- . | replace "/" "__" -}}
{{- end -}}

{{/* The pod template annotations: a checksum of the contracts when they should roll the pods. */}}
{{- define "sigma-aetl.podAnnotations" -}}
{{- if .Values.contracts.restartOnChange }}
annotations:
  checksum/contracts: {{ include "sigma-aetl.contractData" . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Environment shared by the gateway and the workers. */}}
{{- define "sigma-aetl.env" -}}
- name: SIGMA_AETL_HOST
  value: 0.0.0.0
- name: SIGMA_AETL_CONTRACTS_DIR
  value: /etc/sigma-aetl/contracts
- name: SIGMA_AETL_CONTRACTS_WATCH_INTERVAL
  value: {{ .Values.contracts.watchInterval | quote }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Volumes shared by the gateway and the workers: the contracts, and writable scratch space. */}}
{{- define "sigma-aetl.volumes" -}}
- name: contracts
  configMap:
    name: {{ include "sigma-aetl.fullname" . }}-contracts
    items:
      {{- range $path := include "sigma-aetl.contractPaths" . | trim | splitList "\n" }}
      - key: {{ include "sigma-aetl.contractKey" $path }}
        path: {{ $path }}
      {{- end }}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
{{- end -}}

{{- define "sigma-aetl.volumeMounts" -}}
- name: contracts
  mountPath: /etc/sigma-aetl/contracts
  readOnly: true
- name: data
  mountPath: /var/lib/sigma-aetl
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* The values that cannot work are refused at render time. */}}
{{- define "sigma-aetl.check" -}}
{{- if and .Values.worker.enabled (gt (int .Values.worker.replicas) (int .Values.kafka.partitions)) -}}
{{- fail (printf "worker.replicas (%d) exceeds kafka.partitions (%d): a consumer group gives each partition to one worker, so the extra workers would only wait" (int .Values.worker.replicas) (int .Values.kafka.partitions)) -}}
{{- end -}}
{{- if and .Values.worker.enabled (not (or .Values.kafka.routes .Values.kafka.topics)) -}}
{{- fail "the workers have no topic to consume: set kafka.routes or kafka.topics (or worker.enabled=false)" -}}
{{- end -}}
{{- if and .Values.gateway.autoscaling.enabled (gt (int .Values.gateway.autoscaling.minReplicas) (int .Values.gateway.autoscaling.maxReplicas)) -}}
{{- fail "gateway.autoscaling.minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- end -}}

{{/* The Host names the gateway answers: its Service's DNS names, then gateway.extraAllowedHosts. */}}
{{- define "sigma-aetl.allowedHosts" -}}
{{- $service := printf "%s-gateway" (include "sigma-aetl.fullname" .) -}}
{{- $namespace := .Release.Namespace -}}
{{- $names := list $service (printf "%s.%s" $service $namespace) (printf "%s.%s.svc" $service $namespace) (printf "%s.%s.svc.cluster.local" $service $namespace) -}}
{{- join "," (concat $names .Values.gateway.extraAllowedHosts) -}}
{{- end -}}
