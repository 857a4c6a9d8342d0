"""Test harness: starts the real engines a test needs (Redis, the services, Envoy) on free ports
and stops them afterwards. Nothing needs to run before `make test`."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Iterator

import httpx
import pytest

from gateway.stack import Stack, StackConfig

# Gateway limits of the shared test stacks: tests call from 127.0.0.1 as fast as the machine lets
# them (the security suite sends hundreds of requests in a burst; on a fast machine that outran
# 200 tokens refilled at 100/s).
ROOMY_GATEWAY_TOKENS = 5_000
ROOMY_GATEWAY_FILL_PER_SECOND = 2_000


def with_roomy_limits(config: StackConfig) -> StackConfig:
    """Every test calls from 127.0.0.1 and some poll one person's insights for minutes: the
    gateway's and the per-person limits get room (tests/security checks them on a gateway of
    their own)."""
    config.rate_limit_tokens = config.ip_rate_limit_tokens = ROOMY_GATEWAY_TOKENS
    config.rate_limit_fill_per_second = ROOMY_GATEWAY_FILL_PER_SECOND
    config.ip_rate_limit_fill_per_second = ROOMY_GATEWAY_FILL_PER_SECOND
    config.extra_env.update(INSIGHT_USER_RATE_LIMIT="100000")
    return config


@pytest.fixture(
    scope="session",
    params=[
        "embedded",
        pytest.param("engines", marks=[pytest.mark.mongo, pytest.mark.neo4j]),
    ],
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The whole stack behind the real Envoy: once on the embedded default (SQLite), once with the
    insight store on MongoDB's protocol (FerretDB) and the graph on Neo4j — the same REST suite."""
    base = tmp_path_factory.mktemp(f"stack-{request.param}")
    config = StackConfig.on_free_ports(base / "data", base / "run")
    if request.param == "engines":
        from tests.engines import shared_ferretdb_uri, shared_neo4j_uri

        config.extra_env.update(
            INSIGHT_MONGO_URI=shared_ferretdb_uri(),
            INSIGHT_MONGO_DATABASE=f"e2e_{uuid.uuid4().hex[:8]}",
            INSIGHT_NEO4J_URI=shared_neo4j_uri(),
        )
    # Re-queue stuck insights quickly, so crash-recovery tests finish in seconds.
    config.extra_env.update(INSIGHT_STALE_AFTER="3", INSIGHT_SWEEP_INTERVAL="1")
    with_roomy_limits(config)
    running = Stack(config)
    running.start()
    yield running
    running.stop()


@pytest.fixture()
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=30.0) as client:
        yield client


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def register_and_login(
    client: httpx.Client, password: str = "correct horse battery"
) -> dict[str, str]:
    email = unique_email()
    registered = client.post("/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 200, registered.text
    login = client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return {
        "email": email,
        "password": password,
        "user_id": registered.json()["user"]["id"],
        "access": tokens["accessToken"],
        "refresh": tokens["refreshToken"],
    }


@pytest.fixture()
def person(rest: httpx.Client) -> dict[str, str]:
    return register_and_login(rest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def data_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path
