"""Finish the OpenAPI (Swagger 2.0) document protoc-gen-openapiv2 writes from the public protos.

    python -m gateway.openapi RAW.swagger.json OUT.json

The generator already gives every operation its 200 schema and a `default` response with the
error shape (google.rpc.Status: `code`, `message`, `details`). This adds what the protos cannot say:
a title, the Bearer scheme (every route but register/login/refresh needs it), the documented error
statuses of the contract, and the raw-audio body of POST /insights/audio (an HttpBody stream over
gRPC, the request body itself over REST). The output is deterministic (`make proto-check`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

from services.common import audio_formats

TITLE = "Insight Tracker API"
VERSION = "v1"
DESCRIPTION = (
    "The public REST/JSON API, served by the Envoy gateway and transcoded to gRPC. Generated from "
    "the protos (protoc-gen-openapiv2); the contract is shared/CONTRACT.md. Every error is JSON "
    '`{"code": <grpc code>, "message": "...", "details": [...]}` with the matching HTTP status.'
)
SECURITY_SCHEME = "Bearer"
# The only operations callable without an access token.
PUBLIC_OPERATIONS = frozenset({"AuthService_Register", "AuthService_Login", "AuthService_Refresh"})
AUDIO_OPERATION = "InsightService_UploadAudio"
AUDIO_TYPES = audio_formats.CANONICAL_TYPES
ERROR_SCHEMA = "googleRpcStatus"
# Statuses any operation may answer (contract, "Errors"); `default` still covers the rest.
ERROR_STATUSES: dict[str, str] = {
    "400": "INVALID_ARGUMENT: malformed JSON, wrong type, missing or out-of-range field.",
    "401": "UNAUTHENTICATED: no token, bad signature, expired, revoked, wrong algorithm.",
    "404": "NOT_FOUND: no such resource, or another user's.",
    "429": "RESOURCE_EXHAUSTED: too many requests.",
    "503": "UNAVAILABLE: a backing service or store is down.",
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in spec.get("paths", {}).values():
        found.extend(item[method] for method in HTTP_METHODS if method in item)
    return found


def finish_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """Return a finished copy of protoc-gen-openapiv2's merged output `raw`."""
    spec: dict[str, Any] = json.loads(json.dumps(raw))
    if spec.get("swagger") != "2.0":
        raise ValueError(f"expected a Swagger 2.0 document, got {spec.get('swagger')!r}")
    if ERROR_SCHEMA not in spec.get("definitions", {}):
        raise ValueError(f"definitions lack the error schema {ERROR_SCHEMA}")
    spec["info"] = {"title": TITLE, "version": VERSION, "description": DESCRIPTION}
    spec["securityDefinitions"] = {
        SECURITY_SCHEME: {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Bearer <access token>` from POST /auth/login or /auth/refresh.",
        }
    }
    spec["security"] = [{SECURITY_SCHEME: []}]
    error_ref = {"$ref": f"#/definitions/{ERROR_SCHEMA}"}
    seen: set[str] = set()
    for operation in _operations(spec):
        operation_id = operation.get("operationId", "")
        seen.add(operation_id)
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for status, description in ERROR_STATUSES.items():
            if status == "401" and operation_id == "AuthService_Register":
                continue
            responses.setdefault(status, {"description": description, "schema": error_ref})
        responses.setdefault("default", {"description": "Any other error.", "schema": error_ref})
        if operation_id in PUBLIC_OPERATIONS:
            operation["security"] = []
        if operation_id == AUDIO_OPERATION:
            _raw_audio_body(operation)
    missing = PUBLIC_OPERATIONS | {AUDIO_OPERATION}
    if not missing <= seen:
        raise ValueError(f"operations not found: {sorted(missing - seen)}")
    return spec


def _raw_audio_body(operation: dict[str, Any]) -> None:
    """The transcoder binds the raw request body to the HttpBody field (`body: "audio"`)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "body":
            parameter["name"] = "audio"
            parameter["description"] = (
                f"The raw voice note (up to {audio_formats.MAX_AUDIO_BYTES // 2**20} MB and "
                f"{audio_formats.MAX_AUDIO_SECONDS // 60} minutes); its Content-Type names the "
                f"format: {audio_formats.ACCEPTED}. Aliases such as audio/x-wav, audio/mp3 or "
                "audio/x-m4a are taken too."
            )
            parameter["schema"] = {"type": "string", "format": "binary"}
            operation["consumes"] = list(AUDIO_TYPES)
            return
    raise ValueError(f"{AUDIO_OPERATION}: no body parameter")


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi", description=__doc__)
    parser.add_argument("raw", type=pathlib.Path, help="protoc-gen-openapiv2's merged output")
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args(argv)
    raw = json.loads(args.raw.read_text(encoding="utf-8"))
    try:
        spec = finish_spec(raw)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(spec), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
