"""Observability through the whole stack: a request id sent to Envoy reaches every process that
works on that insight, every JSON log line carries a request id, the worker's /metrics counts
pipeline stages, and Envoy's admin serves Prometheus stats."""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.stack import METRICS_PROCESSES, Stack
from tests import polling
from tests.conftest import bearer
from tests.e2e.test_pipeline_rest import wait_for
from tests.metrics import samples, value
from tests.unit.deploy.model import ENVOY_METRICS

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

# Processes whose output is our JSON logs (Redis and Envoy log in their own formats).
PYTHON_PROCESSES = ("insight", "graph", "nlp", "assistant", "worker", "trainer")
# A READY insight's log lines may still be on their way to the files (a job logs after its last
# RPC): a polling bound, not a timing assertion.
SETTLE_SECONDS = 20.0


def json_lines(stack: Stack, process: str) -> list[dict[str, Any]]:
    text = stack.processes[process].log_path.read_text(errors="replace")
    # gRPC's C core and the RQ scheduler's forked child may write plain text lines too.
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def eventually(check: Callable[[], bool]) -> bool:
    return polling.eventually(check, SETTLE_SECONDS)


def create_ready_insight(rest: httpx.Client, person: dict[str, str], request_id: str) -> str:
    created = rest.post(
        "/insights",
        json={"text": "Siemens is building a factory in Munich"},
        headers={**bearer(person["access"]), "x-request-id": request_id},
    )
    assert created.status_code == 200, created.text
    assert created.headers["x-request-id"] == request_id
    insight_id: str = created.json()["insight"]["id"]
    ready = wait_for(rest, person["access"], insight_id, {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    return insight_id


def test_request_id_reaches_every_process_of_the_pipeline(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    mine = f"obs-{uuid.uuid4().hex}"
    insight_id = create_ready_insight(rest, person, mine)

    def logged_by(process: str, logger: str = "") -> bool:
        return any(
            line["request_id"] == mine and line["logger"].startswith(logger)
            for line in json_lines(stack, process)
        )

    # The create call, the worker's claim and completion (insight); the job itself, RQ's own
    # lines included (worker); Analyze (nlp); LinkInsight (graph).
    for process in ("insight", "worker", "nlp", "graph"):
        assert eventually(functools.partial(logged_by, process)), f"{process}: no line with {mine}"
    assert eventually(lambda: logged_by("worker", "rq.worker")), "RQ's job lines lack the id"
    # RQ's line for the dequeued job (the first: the sweeper may queue it again if it runs long).
    dequeued = next(
        line
        for line in json_lines(stack, "worker")
        if line["logger"] == "rq.worker" and f"(insight-{insight_id}-v1)" in line["msg"]
    )
    assert dequeued["request_id"] == mine, dequeued


def test_a_public_request_is_in_envoys_log_and_a_failed_call_in_the_services_too(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """Envoy's access log has every public request; a service logs a person's call at INFO only
    when it fails or is slow (successes at DEBUG: the access log already has them)."""
    succeeded, failed = f"ok-{uuid.uuid4().hex}", f"missing-{uuid.uuid4().hex}"
    auth = bearer(person["access"])
    assert rest.get("/insights", headers={**auth, "x-request-id": succeeded}).status_code == 200
    missing = rest.get("/insights/no-such-insight", headers={**auth, "x-request-id": failed})
    assert missing.status_code == 404

    def lines(process: str, request_id: str) -> list[dict[str, Any]]:
        return [line for line in json_lines(stack, process) if line["request_id"] == request_id]

    def any_line(process: str, request_id: str) -> bool:
        return bool(lines(process, request_id))

    for request_id, status in ((succeeded, 200), (failed, 404)):
        logged = functools.partial(any_line, "envoy", request_id)
        assert eventually(logged), f"envoy: no {request_id}"
        [access] = lines("envoy", request_id)
        assert access["status"] == status, access
    assert eventually(functools.partial(any_line, "insight", failed)), f"insight: no {failed}"
    [rpc] = lines("insight", failed)
    assert (rpc["level"], rpc["code"], rpc["method"]) == (
        "info",
        "NOT_FOUND",
        "/insighttracker.insight.v1.InsightService/GetInsight",
    )
    assert lines("insight", succeeded) == []


def test_every_json_log_line_has_a_request_id(stack: Stack, rest: httpx.Client) -> None:
    rest.get("/insights")  # at least one request line besides start-up
    for process in PYTHON_PROCESSES:
        lines = json_lines(stack, process)
        assert lines, f"{process} logged nothing"
        missing = [line for line in lines if not line.get("request_id")]
        assert not missing, f"{process}: lines without a request id: {missing[:3]}"
        # Work no call started is labelled as such, not left blank.
        assert all(line["service"] for line in lines)


def test_worker_metrics_count_each_stage(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    worker = stack.config.metrics_url("worker")
    before = samples(worker)
    create_ready_insight(rest, person, f"metrics-{uuid.uuid4().hex}")
    stages = ("claim", "analyze", "link", "complete")
    count = "insight_pipeline_stage_seconds_count"

    def counted() -> bool:
        after = samples(worker)
        return all(
            value(after, count, stage=s, outcome="ok") > value(before, count, stage=s, outcome="ok")
            for s in stages
        ) and value(after, "insight_pipeline_jobs_total", outcome="ready") > value(
            before, "insight_pipeline_jobs_total", outcome="ready"
        )

    assert eventually(counted), "stage counts did not increase"
    after = samples(worker)
    job = "services.worker.jobs.process_insight"
    rq_finished = value(
        after, "insight_rq_jobs_total", queue="pipeline", function=job, outcome="finished"
    )
    assert rq_finished >= 1
    # Queue gauges are read from Redis at scrape time; nothing waits once the insight is READY.
    assert (
        "insight_rq_queue_jobs",
        frozenset({("queue", "pipeline"), ("state", "queued")}),
    ) in after
    assert (
        "insight_rq_oldest_queued_job_age_seconds",
        frozenset({("queue", "pipeline")}),
    ) in after


def test_every_process_serves_metrics(stack: Stack, rest: httpx.Client) -> None:
    rest.get("/insights")
    for process in METRICS_PROCESSES:
        assert samples(stack.config.metrics_url(process)), process
    insight = samples(stack.config.metrics_url("insight"))
    handled = [k for k in insight if k[0] == "grpc_server_handled_total"]
    assert ("grpc_service", "insighttracker.insight.v1.InsightService") in {
        label for _, labels in handled for label in labels
    }
    trainer = samples(stack.config.metrics_url("trainer"))
    assert (
        "insight_rq_queue_jobs",
        frozenset({("queue", "training"), ("state", "queued")}),
    ) in trainer


def test_envoy_admin_serves_prometheus_stats(stack: Stack, rest: httpx.Client) -> None:
    rest.get("/insights")
    reply = httpx.get(f"http://127.0.0.1:{stack.config.admin_port}/stats/prometheus", timeout=5)
    assert reply.status_code == 200
    # Raw text: prometheus_client's parser renames Envoy's counters (adds _total).
    public = r'\{[^}]*envoy_http_conn_manager_prefix="public_http"[^}]*\} (\d+)'
    total = re.search(rf"^envoy_http_downstream_rq_total{public}", reply.text, re.M)
    assert total and int(total.group(1)) >= 1
    assert re.search(rf"^envoy_http_downstream_rq_xx{public}", reply.text, re.M)
    # Every Envoy metric the dashboard queries, those that need an upstream's answer included.
    names = {
        line.split("{")[0].split(" ")[0] for line in reply.text.splitlines() if line[:1] != "#"
    }
    assert names >= ENVOY_METRICS, sorted(ENVOY_METRICS - names)
