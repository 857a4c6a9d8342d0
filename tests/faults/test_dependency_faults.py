"""Fault tests through Envoy on a stack of their own: a dependency (nlp, graph, Redis, the insight
service) is stopped and started again while people use the API. Accepted data is never lost,
callers see a JSON 503 while a dependency they need is down, and everything recovers by itself.

The shared session stack is never touched: these tests stop its processes, so they build their
own on free ports (as tests/conftest.py does for the embedded default) and stop it afterwards.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from gateway.processes import grpc_serving, redis_ready
from gateway.stack import START_TIMEOUT_SECONDS, Stack, StackConfig
from services.common.pipeline_jobs import process_job_id
from services.common.redis_client import sync_redis
from tests.conftest import bearer, register_and_login

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

SETTLE_SECONDS = 120.0  # every poll is bounded by this
GRAPH_NOTES = [
    "Graph databases like Neo4j store notes as nodes connected by relationships",
    "Connected notes in a knowledge graph make related ideas easy to find",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("stack-faults")
    config = StackConfig.on_free_ports(base / "data", base / "run")
    # Re-queue stuck insights quickly, and give up retrying a job soon (then the insight waits
    # PENDING for the sweeper), so recovery happens in seconds.
    config.extra_env.update(
        INSIGHT_STALE_AFTER="3",
        INSIGHT_SWEEP_INTERVAL="1",
        INSIGHT_JOB_RETRY_INTERVALS="1,4",
        INSIGHT_REQUEUE_BACKOFF="1",
        INSIGHT_REQUEUE_BACKOFF_MAX="4",
    )
    running = Stack(config)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=30.0) as client:
        yield client


@pytest.fixture()
def person(rest: httpx.Client) -> dict[str, str]:
    return register_and_login(rest)


def _poll(check: Callable[[], bool], seconds: float = SETTLE_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _insight(rest: httpx.Client, token: str, insight_id: str) -> dict[str, Any]:
    reply = rest.get(f"/insights/{insight_id}", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()["insight"]
    return found


def _wait_status(
    rest: httpx.Client, token: str, insight_id: str, statuses: set[str]
) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        insight = _insight(rest, token, insight_id)
        if insight["status"] in statuses or time.monotonic() > deadline:
            return insight
        time.sleep(0.1)


def _create(rest: httpx.Client, token: str, text: str) -> str:
    reply = rest.post("/insights", json={"text": text}, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    insight_id: str = reply.json()["insight"]["id"]
    return insight_id


def _neighbours(rest: httpx.Client, token: str, insight_id: str) -> set[str]:
    reply = rest.get(f"/relationships/{insight_id}", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    return {
        r["targetId"] if r["sourceId"] == insight_id else r["sourceId"]
        for r in reply.json()["relationships"]
    }


def _is_json_503(reply: httpx.Response) -> str:
    """A clear, machine-readable 503: grpc code 14 and a message, no stack trace."""
    assert reply.status_code == 503, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert body["code"] == 14, body
    message = body["message"]
    assert isinstance(message, str) and message
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    return message


def _restart_service(stack: Stack, name: str, port: int) -> None:
    process = stack.processes[name]
    assert not process.alive()
    process.start()  # same argv, env and port as before
    process.wait_until(
        functools.partial(grpc_serving, f"127.0.0.1:{port}"), START_TIMEOUT_SECONDS, "serving"
    )


def _restart_redis(stack: Stack) -> None:
    redis = stack.processes["redis"]
    assert not redis.alive()
    redis.start()
    redis.wait_until(lambda: redis_ready(stack.config.redis_port), 30, "answering PING")


def test_graph_down_is_503_and_deletes_reach_it_later(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    first, second = (_create(rest, token, text) for text in GRAPH_NOTES)
    for insight_id in (first, second):
        assert _wait_status(rest, token, insight_id, {"READY", "FAILED"})["status"] == "READY"
    assert second in _neighbours(rest, token, first)

    graph = stack.processes["graph"]
    graph.stop()
    try:
        message = _is_json_503(rest.get(f"/relationships/{first}", headers=bearer(token)))
        assert "unavailable" in message.lower() or "upstream" in message.lower(), message
        deleted = rest.delete(f"/insights/{second}", headers=bearer(token))
        assert deleted.status_code == 200, deleted.text
        assert rest.get(f"/insights/{second}", headers=bearer(token)).status_code == 404
    finally:
        if not graph.alive():
            _restart_service(stack, "graph", stack.config.graph_port)
    # The insight service's outbox retries the removal until the graph service confirms it.
    assert _poll(lambda: second not in _neighbours(rest, token, first), 60)
    assert _insight(rest, token, first)["status"] == "READY"


def test_nlp_down_past_the_retries_keeps_insights_pending_until_it_is_back(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """Accepted insights are never lost to an outage: once a job's retries are spent they wait
    PENDING with a reason, and the sweeper brings them to READY when nlp is back, unasked."""
    token = person["access"]
    nlp = stack.processes["nlp"]
    nlp.stop()
    try:
        waiting = [
            _create(rest, token, "Apple is opening a research lab in Berlin"),
            _create(rest, token, "Tokyo has great ramen"),
        ]

        def deferred(insight_id: str) -> bool:
            insight = _insight(rest, token, insight_id)
            assert insight["status"] != "FAILED", insight["statusReason"]
            return insight["status"] == "PENDING" and "UNAVAILABLE" in insight["statusReason"]

        # Every retry failed and each insight went back to PENDING, saying what it waits for.
        assert _poll(lambda: all(deferred(i) for i in waiting)), [
            _insight(rest, token, i) for i in waiting
        ]
        # ...and the sweeper keeps queueing it again (it is claimed and deferred once more).
        deferred_at = {i: _insight(rest, token, i)["updateTime"] for i in waiting}
        assert _poll(
            lambda: all(_insight(rest, token, i)["updateTime"] != deferred_at[i] for i in waiting)
        )
        assert all(_insight(rest, token, i)["status"] in {"PENDING", "PROCESSING"} for i in waiting)
    finally:
        if not nlp.alive():
            _restart_service(stack, "nlp", stack.config.nlp_port)
    for insight_id in waiting:
        ready = _wait_status(rest, token, insight_id, {"READY", "FAILED"})
        assert ready["status"] == "READY", (ready["status"], ready["statusReason"])
        assert ready["statusReason"] == ""
        assert ready["keywords"]


def test_insight_service_down_is_503_and_nothing_is_lost(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    insight_id = _create(rest, token, "Tokyo has great ramen")
    before = _wait_status(rest, token, insight_id, {"READY", "FAILED"})
    assert before["status"] == "READY"
    edited = rest.put(
        f"/insights/{insight_id}", json={"tags": ["food", "travel"]}, headers=bearer(token)
    )
    assert edited.status_code == 200, edited.text
    before = edited.json()["insight"]

    insight = stack.processes["insight"]
    insight.stop()
    try:
        _is_json_503(rest.get(f"/insights/{insight_id}", headers=bearer(token)))
        _is_json_503(rest.get("/insights", headers=bearer(token)))
        _is_json_503(
            rest.post("/insights", json={"text": "lost in the void"}, headers=bearer(token))
        )
        _is_json_503(
            rest.post(
                "/auth/login", json={"email": person["email"], "password": person["password"]}
            )
        )
    finally:
        if not insight.alive():
            _restart_service(stack, "insight", stack.config.insight_port)
    after = _insight(rest, token, insight_id)
    assert after == before
    listed = rest.get("/insights", headers=bearer(token)).json()["insights"]
    assert [i["id"] for i in listed] == [insight_id]
    # The same session works, a new login works, and the pipeline runs again.
    login = rest.post(
        "/auth/login", json={"email": person["email"], "password": person["password"]}
    )
    assert login.status_code == 200, login.text
    fresh = _create(rest, token, "Microsoft hired engineers in Paris")
    assert _wait_status(rest, token, fresh, {"READY", "FAILED"})["status"] == "READY"


def _job_exists(stack: Stack, insight_id: str) -> bool:
    try:
        Job.fetch(
            process_job_id(insight_id, 1), connection=sync_redis(stack.config.effective_redis_url)
        )
    except NoSuchJobError:
        return False
    return True


def test_redis_restart_keeps_queued_jobs_and_is_503_meanwhile(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """Every authenticated call checks the revocation list in Redis, so while Redis is down the
    honest answer is 503 (no write is accepted then); jobs queued before survive the restart."""
    token = person["access"]
    stack.processes["worker"].stop()  # so the jobs stay queued across the restart
    queued = [
        _create(rest, token, "Apple is opening a research lab in Berlin"),
        _create(rest, token, "Tokyo has great ramen"),
    ]
    assert all(_job_exists(stack, i) for i in queued)
    redis = stack.processes["redis"]
    redis.stop()  # SIGTERM: Redis fsyncs its append-only file on the way out
    try:
        message = _is_json_503(
            rest.post(
                "/insights", json={"text": "written while Redis is down"}, headers=bearer(token)
            )
        )
        assert "unavailable" in message, message
        _is_json_503(rest.get(f"/insights/{queued[0]}", headers=bearer(token)))
        _is_json_503(
            rest.post(
                "/auth/login", json={"email": person["email"], "password": person["password"]}
            )
        )
        _is_json_503(rest.post("/auth/refresh", json={"refreshToken": person["refresh"]}))
    finally:
        if not redis.alive():
            _restart_redis(stack)
    # The jobs came back from the append-only file; the worker finds them without the sweeper.
    assert all(_job_exists(stack, i) for i in queued)
    stack.start_worker()
    for insight_id in queued:
        ready = _wait_status(rest, token, insight_id, {"READY", "FAILED"})
        assert ready["status"] == "READY", ready["statusReason"]
    refreshed = rest.post("/auth/refresh", json={"refreshToken": person["refresh"]})
    assert refreshed.status_code == 200, refreshed.text


def test_retries_still_run_after_a_redis_restart(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    worker = stack.processes["worker"]
    redis = stack.processes["redis"]
    redis.stop()
    try:
        _is_json_503(rest.get("/insights", headers=bearer(token)))
        time.sleep(3)  # the worker's scheduler heartbeats every second: it meets the outage
    finally:
        if not redis.alive():
            _restart_redis(stack)
    accepted = [_create(rest, token, "Microsoft hired engineers in Paris") for _ in range(2)]
    # Force a retry: the graph is down for the first attempt of this one.
    graph = stack.processes["graph"]
    graph.stop()
    try:
        accepted.append(_create(rest, token, "Apple is opening a research lab in Berlin"))
        time.sleep(3)  # the first attempt fails and a retry is scheduled
    finally:
        if not graph.alive():
            _restart_service(stack, "graph", stack.config.graph_port)
    for insight_id in accepted:
        ready = _wait_status(rest, token, insight_id, {"READY", "FAILED"})
        assert ready["status"] == "READY", (ready["status"], ready["statusReason"])
    assert worker.alive(), worker.log_tail()
