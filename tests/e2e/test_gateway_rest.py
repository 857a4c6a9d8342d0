"""Envoy's own behaviour: JSON errors, limits, CORS, request ids, routes of unbuilt services."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from gateway.processes import free_port
from gateway.stack import Stack
from tests.conftest import bearer

pytestmark = [pytest.mark.envoy, pytest.mark.redis]


def _is_contract_error(reply: httpx.Response, http_status: int, grpc_code: int) -> None:
    assert reply.status_code == http_status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert body["code"] == grpc_code
    assert isinstance(body["message"], str) and body["message"]


def test_unknown_route_is_json_404(rest: httpx.Client) -> None:
    _is_contract_error(rest.get("/no/such/route"), 404, 5)


def test_internal_services_are_never_routed(rest: httpx.Client, person: dict[str, str]) -> None:
    reply = rest.post(
        "/insighttracker.insight.v1.InsightInternalService/ListStaleInsights",
        json={},
        headers=bearer(person["access"]),
    )
    assert reply.status_code == 404


def test_body_over_the_limit_is_json_413(rest: httpx.Client, person: dict[str, str]) -> None:
    oversized = b'{"text": "' + b"x" * (27 * 1024 * 1024) + b'"}'
    headers = {**bearer(person["access"]), "Content-Type": "application/json"}
    _is_contract_error(rest.post("/insights", content=oversized, headers=headers), 413, 8)


def test_request_id_is_generated_and_kept(rest: httpx.Client) -> None:
    # Where it is logged: tests/e2e/test_observability_rest.py.
    generated = rest.get("/insights")
    assert generated.headers["x-request-id"]
    mine = "test-request-0f1e2d3c"
    kept = rest.get("/insights", headers={"x-request-id": mine})
    assert kept.headers["x-request-id"] == mine


def test_cors_preflight_is_answered_by_the_gateway(rest: httpx.Client) -> None:
    reply = rest.options(
        "/insights",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert "authorization" in reply.headers["access-control-allow-headers"].lower()


@pytest.fixture()
def second_gateway(stack: Stack) -> Iterator[Stack]:
    """Another Envoy in front of the same services, for settings the shared one must not have."""
    config = dataclasses.replace(stack.config, http_port=free_port(), admin_port=free_port())
    gateway = Stack(config)
    yield gateway
    gateway.stop()


def test_rate_limit_answers_json_429(second_gateway: Stack) -> None:
    second_gateway.config.rate_limit_tokens = 3
    second_gateway.config.rate_limit_fill_per_second = 1
    second_gateway.start_envoy()
    with httpx.Client(base_url=second_gateway.config.rest_url) as client:
        replies = [client.get("/insights") for _ in range(6)]
    assert [r.status_code for r in replies[:3]] == [401, 401, 401]
    _is_contract_error(replies[-1], 429, 8)


def test_service_down_is_json_503(second_gateway: Stack) -> None:
    second_gateway.config.insight_port = free_port()  # nothing listens there
    second_gateway.start_envoy()
    with httpx.Client(base_url=second_gateway.config.rest_url) as client:
        reply = client.post("/auth/login", json={"email": "a@b.co", "password": "whatever1"})
    _is_contract_error(reply, 503, 14)
    assert "Traceback" not in reply.text


@pytest.mark.parametrize("path", ["/insights", "/no/such/route"])
def test_security_headers_on_every_response(rest: httpx.Client, path: str) -> None:
    reply = rest.get(path)
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in reply.headers["content-security-policy"]
