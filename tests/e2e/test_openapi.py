"""The OpenAPI document generated from the protos: served by Envoy, true to the live API.

A schemathesis run against the whole stack behind Envoy: a few generated requests per operation
(valid and invalid ones), each answered without a 5xx, with a documented status, content type and a
body that matches the document.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from google.protobuf import descriptor_pb2
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.envoy_config import OPENAPI_PATH
from gateway.openapi import AUDIO_TYPES
from gateway.request_checks import Protos, build_schema
from gateway.stack import ROOT, Stack
from tests.conftest import bearer, register_and_login

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

CONTRACT_ROUTES = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("post", "/insights"),
    ("get", "/insights"),
    ("get", "/insights/{id}"),
    ("put", "/insights/{id}"),
    ("delete", "/insights/{id}"),
    ("post", "/insights/audio"),
    ("get", "/relationships/{insightId}"),
    ("get", "/mindmap/{insightId}"),
    ("post", "/relationships"),
    ("delete", "/relationships/{id}"),
    ("get", "/suggestions"),
    ("post", "/suggestions/feedback"),
    ("post", "/train"),
    ("get", "/train/{jobId}"),
    ("get", "/stats"),
}
DESCRIPTOR = descriptor_pb2.FileDescriptorSet.FromString(
    (ROOT / "generated" / "descriptor.binpb").read_bytes()
)
# A few per operation in `make test`; INSIGHT_SCHEMATHESIS_EXAMPLES=200 for a deeper hunt.
EXAMPLES_PER_OPERATION = int(os.environ.get("INSIGHT_SCHEMATHESIS_EXAMPLES") or 5)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schemathesis.serializer(*AUDIO_TYPES)
def _raw_audio(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """Generated audio bodies go on the wire as they are (bytes, or text as UTF-8)."""
    return value if isinstance(value, bytes) else str(value).encode()


def _routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def _exercise(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    base_url: str,
    headers: dict[str, str],
    calls: list[int],
    failures: list[str],
) -> None:
    """Send a few generated cases (no shrinking) and record every failed check."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        calls.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:  # collect every operation's failures, then fail once
            for failure in group.exceptions:
                failures.append(
                    f"{operation.label} -> {response.status_code} {failure.title}: "
                    f"{failure.message[:300]} sent={case.body!r:.200} got={response.text[:200]!r}"
                )

    run()


def test_gateway_serves_the_generated_document(rest: httpx.Client) -> None:
    reply = rest.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.content == OPENAPI_PATH.read_bytes()
    spec = reply.json()
    assert spec["swagger"] == "2.0"
    assert _routes(spec) == CONTRACT_ROUTES
    assert "Internal" not in json.dumps(spec["paths"])
    assert spec["securityDefinitions"]["Bearer"]["name"] == "Authorization"
    public = {
        path
        for path, item in spec["paths"].items()
        for op in item.values()
        if op.get("security") == []
    }
    assert public == {"/auth/register", "/auth/login", "/auth/refresh"}
    for item in spec["paths"].values():
        for operation in item.values():
            error = operation["responses"]["default"]["schema"]["$ref"]
            assert error == "#/definitions/googleRpcStatus"
    # The fields the gateway requires (the protos' field_behavior) are the document's required.
    required = {name: d["required"] for name, d in spec["definitions"].items() if "required" in d}
    messages = Protos(DESCRIPTOR).messages
    expected = {}
    for message, fields in build_schema(DESCRIPTOR)["required"].items():
        json_name = {f.name: f.json_name for f in messages[f".{message}"].field}
        expected["v1" + message.rsplit(".", 1)[1]] = [json_name[field] for field in fields]
    assert required == expected


def test_only_get_serves_the_document(rest: httpx.Client) -> None:
    assert rest.post("/openapi.json", json={}).status_code == 404


def test_live_api_matches_the_document(
    request: pytest.FixtureRequest, stack: Stack, rest: httpx.Client
) -> None:
    if request.node.callspec.params.get("stack") != "embedded":
        pytest.skip("the schema run covers the REST layer once; the engines share it")
    base_url = stack.config.rest_url
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=10)
    failures: list[str] = []
    operations = 0
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # Err raises: a broken document
        operations += 1
        # A fresh account per operation: Logout and Refresh must not spoil the others' token.
        headers = bearer(register_and_login(rest)["access"])

        _exercise(operation, base_url, headers, calls, failures)
    statuses = sorted(set(calls))
    print(f"schemathesis: {operations} operations, {len(calls)} calls, statuses {statuses}")
    assert operations == len(CONTRACT_ROUTES)
    assert not failures, "\n\n".join(failures)


def test_generated_document_is_the_committed_one(tmp_path: pathlib.Path) -> None:
    """gateway.openapi is deterministic: finishing the spec twice changes nothing."""
    from gateway.openapi import finish_spec, render

    committed = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert render(finish_spec(committed)) == OPENAPI_PATH.read_text(encoding="utf-8")
