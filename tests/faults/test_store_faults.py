"""A store goes away: on the scale-out engines (insights on FerretDB, the MongoDB-protocol
engine; the graph on Neo4j), each started here for this module alone, since it is stopped.

While a store is down the calls that need it answer a JSON 503 saying which store; writes that
need it are refused, never half-accepted; everything accepted before or meanwhile is there
afterwards, and the stack recovers by itself once the engine is back."""

from __future__ import annotations

import functools
import pathlib
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.processes import ManagedProcess
from gateway.stack import Stack
from tests.conftest import bearer
from tests.engines import (
    NEO4J_START_TIMEOUT_SECONDS,
    START_TIMEOUT_SECONDS,
    mongo_ping,
    neo4j_ready,
    start_ferretdb,
    start_neo4j,
)
from tests.faults.support import (
    create,
    get_insight,
    is_json_503,
    neighbours,
    poll,
    ready_insight,
    running_stack,
    wait_status,
)
from tests.metrics import samples, value

pytestmark = [pytest.mark.envoy, pytest.mark.redis, pytest.mark.mongo, pytest.mark.neo4j]

RELATED = [
    "Graph databases like Neo4j store notes as nodes connected by relationships",
    "Connected notes in a knowledge graph make related ideas easy to find",
]


class Engines:
    def __init__(self, base: pathlib.Path) -> None:
        self.ferretdb, self.mongo_uri = start_ferretdb(base / "ferretdb")
        try:
            self.neo4j, self.neo4j_uri = start_neo4j(base / "neo4j")
        except BaseException:
            self.ferretdb.stop()
            raise

    def restart_ferretdb(self) -> None:
        _restart(
            self.ferretdb, functools.partial(mongo_ping, self.mongo_uri), START_TIMEOUT_SECONDS
        )

    def restart_neo4j(self) -> None:
        ready = functools.partial(neo4j_ready, self.neo4j_uri)
        _restart(self.neo4j, ready, NEO4J_START_TIMEOUT_SECONDS)

    def discard(self) -> None:
        """Their data is thrown away: no need to wait for a clean shutdown (Neo4j's takes long)."""
        self.ferretdb.kill()
        self.neo4j.kill()


def _restart(engine: ManagedProcess, ready: functools.partial[bool], timeout: float) -> None:
    """Same binary, data and port as before."""
    assert not engine.alive()
    engine.start()
    engine.wait_until(ready, timeout, "answering")


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    started = Engines(tmp_path_factory.mktemp("store-faults-engines"))
    yield started
    started.discard()


@pytest.fixture(scope="module")
def stack(engines: Engines, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "INSIGHT_MONGO_URI": engines.mongo_uri,
        "INSIGHT_MONGO_DATABASE": f"faults_{uuid.uuid4().hex[:8]}",
        "INSIGHT_NEO4J_URI": engines.neo4j_uri,
        # One retry: with Neo4j gone each linking attempt waits out the worker's 10 s deadline.
        "INSIGHT_JOB_RETRY_INTERVALS": "1",
    }
    yield from running_stack(tmp_path_factory.mktemp("stack-store-faults"), env)


def assert_refused_at_once(metrics_url: str, store: str, call: Callable[[], str]) -> None:
    """Once a call found the engine unreachable, the next ones are refused without waiting for
    the driver (store_guard's breaker); at most one in a second goes to the driver as a probe,
    so of a few calls in a row some are refused at once, with the same 503."""
    count = functools.partial(value, name="store_calls_refused_total", store=store)
    refused_before = count(samples(metrics_url))
    for _ in range(4):
        assert f"{store} store is unavailable" in call()
    assert count(samples(metrics_url)) > refused_before


def test_insight_store_down_is_503_and_nothing_accepted_is_lost(
    engines: Engines, stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    # Seen once before the adapters shielded driver calls from cancellation (store_guard):
    # PyMongo 4.20's async client raised "RuntimeError: Lock is not acquired" from server
    # selection when a call waiting on it was cancelled by its gRPC deadline, and never recovered.
    token = person["access"]
    before = ready_insight(rest, token, "Tokyo has great ramen")
    engines.ferretdb.stop()
    try:
        message = is_json_503(rest.get("/insights", headers=bearer(token)))
        assert "insight store" in message, message
        assert_refused_at_once(
            stack.config.metrics_url("insight"),
            "insight",
            lambda: is_json_503(rest.get("/insights", headers=bearer(token))),
        )
        is_json_503(rest.post("/insights", json={"text": "not stored"}, headers=bearer(token)))
    finally:
        if not engines.ferretdb.alive():
            engines.restart_ferretdb()
    # The driver reconnects by itself; the refused write was not stored, the earlier one is.
    assert poll(lambda: rest.get("/insights", headers=bearer(token)).status_code == 200)
    listed = rest.get("/insights", headers=bearer(token)).json()["insights"]
    assert [i["id"] for i in listed] == [before]
    assert get_insight(rest, token, before)["status"] == "READY"
    ready_insight(rest, token, "Microsoft hired engineers in Paris")


def test_graph_store_down_is_503_and_insights_wait_for_it(
    engines: Engines, stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """With Neo4j gone the graph's reads are 503, insights are still accepted, and their
    linking waits (PENDING, with the reason) until Neo4j is back; then they are linked."""
    token = person["access"]
    first = ready_insight(rest, token, RELATED[0])
    engines.neo4j.kill()  # as a crash would; it recovers from its transaction log on restart
    try:
        message = is_json_503(rest.get(f"/relationships/{first}", headers=bearer(token)))
        assert "graph store" in message, message
        assert_refused_at_once(
            stack.config.metrics_url("graph"),
            "graph",
            lambda: is_json_503(rest.get(f"/relationships/{first}", headers=bearer(token))),
        )
        second = create(rest, token, RELATED[1])

        def waiting() -> bool:
            insight = get_insight(rest, token, second)
            assert insight["status"] not in {"READY", "FAILED"}, insight
            # The graph service answers UNAVAILABLE, or not before the worker's deadline: the
            # Neo4j driver keeps retrying a write for a while.
            reason: str = insight["statusReason"]
            return insight["status"] == "PENDING" and reason.startswith("waiting for a service")

        assert poll(waiting), get_insight(rest, token, second)
    finally:
        if not engines.neo4j.alive():
            engines.restart_neo4j()
    ready = wait_status(rest, token, second, {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    assert poll(lambda: second in neighbours(rest, token, first))
