"""Fault tests through Envoy on a stack of their own: a dependency (nlp, graph, Redis, the insight
service) is stopped and started again while people use the API. Accepted data is never lost,
callers see a JSON 503 while a dependency they need is down, and everything recovers by itself.
"""

from __future__ import annotations

import time

import httpx
import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from gateway.stack import Stack
from services.common.pipeline_jobs import process_job_id
from services.common.redis_client import sync_redis
from tests.conftest import bearer
from tests.faults.support import (
    create,
    get_insight,
    is_json_503,
    neighbours,
    poll,
    restart_redis,
    restart_service,
    wait_status,
)

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

GRAPH_NOTES = [
    "Graph databases like Neo4j store notes as nodes connected by relationships",
    "Connected notes in a knowledge graph make related ideas easy to find",
]


def test_graph_down_is_503_and_deletes_reach_it_later(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    first, second = (create(rest, token, text) for text in GRAPH_NOTES)
    for insight_id in (first, second):
        assert wait_status(rest, token, insight_id, {"READY", "FAILED"})["status"] == "READY"
    assert second in neighbours(rest, token, first)

    graph = stack.processes["graph"]
    graph.stop()
    try:
        message = is_json_503(rest.get(f"/relationships/{first}", headers=bearer(token)))
        assert "unavailable" in message.lower() or "upstream" in message.lower(), message
        # Search by meaning needs the graph's vectors: 503 naming it; a plain list still works.
        search = rest.get("/insights", params={"query": "graph"}, headers=bearer(token))
        assert "the graph service is unavailable" in is_json_503(search)
        assert rest.get("/insights", headers=bearer(token)).status_code == 200
        deleted = rest.delete(f"/insights/{second}", headers=bearer(token))
        assert deleted.status_code == 200, deleted.text
        assert rest.get(f"/insights/{second}", headers=bearer(token)).status_code == 404
    finally:
        if not graph.alive():
            restart_service(stack, "graph", stack.config.graph_port)
    # The insight service's outbox retries the removal until the graph service confirms it.
    assert poll(lambda: second not in neighbours(rest, token, first), 60)
    assert get_insight(rest, token, first)["status"] == "READY"


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
            create(rest, token, "Apple is opening a research lab in Berlin"),
            create(rest, token, "Tokyo has great ramen"),
        ]
        # Search by meaning needs the query's embedding: 503 naming nlp; a plain list still works.
        search = rest.get("/insights", params={"query": "ramen"}, headers=bearer(token))
        assert "the nlp service is unavailable" in is_json_503(search)
        assert len(rest.get("/insights", headers=bearer(token)).json()["insights"]) == 2

        def deferred_twice(insight_id: str) -> bool:
            """Seen waiting PENDING with the reason at two update times: every retry failed and
            it went back to PENDING, then the sweeper queued it again and it was deferred again."""
            seen: set[str] = set()

            def check() -> bool:
                insight = get_insight(rest, token, insight_id)
                assert insight["status"] != "FAILED", insight["statusReason"]
                if insight["status"] == "PENDING" and "UNAVAILABLE" in insight["statusReason"]:
                    seen.add(insight["updateTime"])
                return len(seen) >= 2

            return poll(check)

        # One at a time: each spends most of its time claimed again (PROCESSING) meanwhile.
        for insight_id in waiting:
            assert deferred_twice(insight_id), get_insight(rest, token, insight_id)
    finally:
        if not nlp.alive():
            restart_service(stack, "nlp", stack.config.nlp_port)
    for insight_id in waiting:
        ready = wait_status(rest, token, insight_id, {"READY", "FAILED"})
        assert ready["status"] == "READY", (ready["status"], ready["statusReason"])
        assert ready["statusReason"] == ""
        assert ready["keywords"]


def test_insight_service_down_is_503_and_nothing_is_lost(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    insight_id = create(rest, token, "Tokyo has great ramen")
    before = wait_status(rest, token, insight_id, {"READY", "FAILED"})
    assert before["status"] == "READY"
    edited = rest.put(
        f"/insights/{insight_id}", json={"tags": ["food", "travel"]}, headers=bearer(token)
    )
    assert edited.status_code == 200, edited.text
    before = edited.json()["insight"]

    insight = stack.processes["insight"]
    insight.stop()
    try:
        is_json_503(rest.get(f"/insights/{insight_id}", headers=bearer(token)))
        is_json_503(rest.get("/insights", headers=bearer(token)))
        is_json_503(
            rest.post("/insights", json={"text": "lost in the void"}, headers=bearer(token))
        )
        is_json_503(
            rest.post(
                "/auth/login", json={"email": person["email"], "password": person["password"]}
            )
        )
    finally:
        if not insight.alive():
            restart_service(stack, "insight", stack.config.insight_port)
    after = get_insight(rest, token, insight_id)
    assert after == before
    listed = rest.get("/insights", headers=bearer(token)).json()["insights"]
    assert [i["id"] for i in listed] == [insight_id]
    # The same session works, a new login works, and the pipeline runs again.
    login = rest.post(
        "/auth/login", json={"email": person["email"], "password": person["password"]}
    )
    assert login.status_code == 200, login.text
    fresh = create(rest, token, "Microsoft hired engineers in Paris")
    assert wait_status(rest, token, fresh, {"READY", "FAILED"})["status"] == "READY"


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
        create(rest, token, "Apple is opening a research lab in Berlin"),
        create(rest, token, "Tokyo has great ramen"),
    ]
    assert all(_job_exists(stack, i) for i in queued)
    redis = stack.processes["redis"]
    redis.stop()  # SIGTERM: Redis fsyncs its append-only file on the way out
    try:
        message = is_json_503(
            rest.post(
                "/insights", json={"text": "written while Redis is down"}, headers=bearer(token)
            )
        )
        assert "unavailable" in message, message
        is_json_503(rest.get(f"/insights/{queued[0]}", headers=bearer(token)))
        is_json_503(
            rest.post(
                "/auth/login", json={"email": person["email"], "password": person["password"]}
            )
        )
        is_json_503(rest.post("/auth/refresh", json={"refreshToken": person["refresh"]}))
    finally:
        if not redis.alive():
            restart_redis(stack)
    # The jobs came back from the append-only file; the worker finds them without the sweeper.
    assert all(_job_exists(stack, i) for i in queued)
    stack.start_worker()
    for insight_id in queued:
        ready = wait_status(rest, token, insight_id, {"READY", "FAILED"})
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
        is_json_503(rest.get("/insights", headers=bearer(token)))
        time.sleep(3)  # the worker's scheduler heartbeats every second: it meets the outage
    finally:
        if not redis.alive():
            restart_redis(stack)
    accepted = [create(rest, token, "Microsoft hired engineers in Paris") for _ in range(2)]
    # Force a retry: the graph is down for the first attempt of this one.
    graph = stack.processes["graph"]
    graph.stop()
    try:
        accepted.append(create(rest, token, "Apple is opening a research lab in Berlin"))
        time.sleep(3)  # the first attempt fails and a retry is scheduled
    finally:
        if not graph.alive():
            restart_service(stack, "graph", stack.config.graph_port)
    for insight_id in accepted:
        ready = wait_status(rest, token, insight_id, {"READY", "FAILED"})
        assert ready["status"] == "READY", (ready["status"], ready["statusReason"])
    assert worker.alive(), worker.log_tail()
