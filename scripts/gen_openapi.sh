#!/usr/bin/env bash
# Regenerates generated/openapi/insight-tracker.json (Swagger 2.0) from the PUBLIC protos with
# protoc-gen-openapiv2 (`make tools`), then finishes it with gateway/openapi.py (title, Bearer
# security, error responses, raw audio body). Envoy serves it at GET /openapi.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PLUGIN=${PROTOC_GEN_OPENAPIV2:-build/tools/bin/protoc-gen-openapiv2}
[[ -x $PLUGIN ]] || { echo "missing $PLUGIN: run 'make tools'" >&2; exit 1; }

"$PY" scripts/third_party_protos.py build/third_party
WKT=$("$PY" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
# Public services only: never *_internal.proto nor the nlp service.
PUBLIC=(
  insighttracker/auth/v1/auth.proto
  insighttracker/insight/v1/insight.proto
  insighttracker/graph/v1/graph.proto
  insighttracker/assistant/v1/assistant.proto
)
# The protos have no go_package; the plugin only needs some import path per file.
OPTS=allow_merge=true,merge_file_name=insight-tracker,json_names_for_fields=true,output_format=json
for f in "${PUBLIC[@]}"; do OPTS+=",M$f=insighttracker/$(dirname "$f")"; done

RAW=$(mktemp -d)
trap 'rm -rf "$RAW"' EXIT
"$PY" -m grpc_tools.protoc -Iproto -Ibuild/third_party -I"$WKT" \
  --plugin=protoc-gen-openapiv2="$PLUGIN" --openapiv2_out="$RAW" --openapiv2_opt="$OPTS" \
  "${PUBLIC[@]}"
mkdir -p generated/openapi
"$PY" -m gateway.openapi "$RAW/insight-tracker.swagger.json" generated/openapi/insight-tracker.json
echo "generated/openapi/insight-tracker.json rebuilt from ${#PUBLIC[@]} proto files"
