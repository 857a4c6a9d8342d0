"""Rate limits through the real Envoy: per client IP at the gateway, per person in the services
(both answer 429 in the contract's JSON, with the security headers and a retry hint)."""

from __future__ import annotations

import dataclasses
import pathlib
import sys
from collections.abc import Iterator

import httpx
import pytest

from gateway.processes import free_port, grpc_serving
from gateway.stack import START_TIMEOUT_SECONDS, Stack
from tests.conftest import bearer, register_and_login
from tests.security.conftest import EMBEDDED_ONLY
from tests.security.routes import assert_contract_error

pytestmark = [pytest.mark.envoy, pytest.mark.redis, EMBEDDED_ONLY]

PER_PERSON_LIMIT = 5


def _gateway(stack: Stack, run_dir: pathlib.Path) -> Stack:
    """Another Envoy (and whatever the test adds) in front of the shared stack's services."""
    config = dataclasses.replace(
        stack.config,
        http_port=free_port(),
        admin_port=free_port(),
        run_dir=run_dir,
        extra_env=dict(stack.config.extra_env),
        metrics_ports={},  # the shared stack's processes hold those ports
    )
    return Stack(config)


@pytest.fixture()
def per_ip_gateway(stack: Stack, tmp_path: pathlib.Path) -> Iterator[Stack]:
    # A roomy listener-wide bucket, so only the per-IP one (3 tokens, 1/s) can refuse.
    gateway = _gateway(stack, tmp_path)
    gateway.config.rate_limit_tokens = gateway.config.rate_limit_fill_per_second = 1000
    gateway.config.ip_rate_limit_tokens, gateway.config.ip_rate_limit_fill_per_second = 3, 1
    gateway.start_envoy()
    yield gateway
    gateway.stop()


def _client(gateway: Stack, source_ip: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source_ip)
    return httpx.Client(base_url=gateway.config.rest_url, transport=transport, timeout=30.0)


def test_each_client_ip_has_its_own_bucket(per_ip_gateway: Stack) -> None:
    with (
        _client(per_ip_gateway, "127.0.0.1") as first,
        _client(per_ip_gateway, "127.0.0.2") as second,
    ):
        # Unauthenticated, so 401 while tokens last; the bucket refills one token a second.
        replies = [first.get("/insights") for _ in range(3)]
        assert [r.status_code for r in replies] == [401, 401, 401]
        limited = _first_429(first, {})
        assert_contract_error(limited, 429, 8)
        assert limited.headers["retry-after"] == "1"
        # Another address still has its whole bucket.
        assert second.get("/insights").status_code == 401
        # A client cannot pick a fresh bucket by claiming other addresses: Envoy is the edge.
        spoofed = _first_429(first, {"X-Forwarded-For": "203.0.113.{n}"})
        assert_contract_error(spoofed, 429, 8)


def _first_429(client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    """The first 429 of a quick burst (a slow machine may let a refilled token through)."""
    reply = client.get("/insights")
    for n in range(20):
        reply = client.get("/insights", headers={k: v.format(n=n) for k, v in headers.items()})
        if reply.status_code == 429:
            break
    return reply


@pytest.fixture()
def per_person_gateway(stack: Stack, tmp_path: pathlib.Path) -> Iterator[Stack]:
    """A second insight service with a low per-person limit (sharing the stack's Redis and
    data), and an Envoy routing the insight routes to it."""
    gateway = _gateway(stack, tmp_path)
    gateway.config.insight_port = free_port()
    gateway.config.extra_env.update(INSIGHT_USER_RATE_LIMIT=str(PER_PERSON_LIMIT))
    insight = gateway.add_process("insight", [sys.executable, "-m", "services.insight.server"])
    insight.start()
    try:
        address = f"127.0.0.1:{gateway.config.insight_port}"
        insight.wait_until(lambda: grpc_serving(address), START_TIMEOUT_SECONDS, "serving")
        gateway.start_envoy()
    except BaseException:
        gateway.stop()
        raise
    yield gateway
    gateway.stop()


def test_each_person_has_a_limit_across_calls(per_person_gateway: Stack) -> None:
    with httpx.Client(base_url=per_person_gateway.config.rest_url, timeout=30.0) as client:
        # Logging in is not an authenticated call: it does not count.
        busy, other = register_and_login(client), register_and_login(client)
        calls = [
            client.get("/insights", headers=bearer(busy["access"])).status_code
            for _ in range(PER_PERSON_LIMIT)
        ]
        assert calls == [200] * PER_PERSON_LIMIT
        limited = client.get("/insights", headers=bearer(busy["access"]))
        assert_contract_error(limited, 429, 8)
        body = limited.json()
        assert "try again in" in body["message"]
        retry = [d for d in body["details"] if d["@type"].endswith("google.rpc.RetryInfo")]
        assert retry and retry[0]["retryDelay"].endswith("s"), body
        # Every route of that service counts; other people are not affected.
        created = client.post("/insights", json={"text": "x"}, headers=bearer(busy["access"]))
        assert_contract_error(created, 429, 8)
        assert client.get("/insights", headers=bearer(other["access"])).status_code == 200
        # A revoked token is refused as revoked (401), not counted as a call (429).
        client.post("/auth/logout", json={}, headers=bearer(other["access"]))
        for _ in range(PER_PERSON_LIMIT + 1):
            reply = client.get("/insights", headers=bearer(other["access"]))
            assert_contract_error(reply, 401, 16)
