#!/usr/bin/env bash
# Regenerates generated/ from proto/: messages, grpc.aio stubs, .pyi stubs (mypy-protobuf) and the
# descriptor set Envoy's transcoder loads. Output depends only on proto/ and the pinned tool versions.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PATH="$(cd "$(dirname "$PY")" && pwd):$PATH"  # protoc-gen-mypy lives beside the interpreter

"$PY" scripts/third_party_protos.py build/third_party
WKT=$("$PY" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
mapfile -t SOURCES < <(cd proto && find insighttracker -name '*.proto' | LC_ALL=C sort)

rm -rf generated && mkdir -p generated
"$PY" -m grpc_tools.protoc -Iproto -Ibuild/third_party -I"$WKT" \
  --python_out=generated --grpc_python_out=generated \
  --mypy_out=generated --mypy_grpc_out=generated \
  "${SOURCES[@]}" 2> >(grep -v '^Writing mypy to' >&2)
# The descriptor set carries error_details so Envoy can render google.rpc details as JSON.
"$PY" -m grpc_tools.protoc -Iproto -Ibuild/third_party -I"$WKT" \
  --include_imports --descriptor_set_out=generated/descriptor.binpb \
  "${SOURCES[@]}" google/rpc/error_details.proto
# The OpenAPI document Envoy serves at GET /openapi.json (public services only).
PY="$PY" scripts/gen_openapi.sh
echo "generated/ rebuilt from ${#SOURCES[@]} proto files"
