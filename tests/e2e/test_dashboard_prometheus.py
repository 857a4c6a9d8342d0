"""The Grafana dashboard against a real Prometheus scraping the whole stack.

A Prometheus (Debian's) scrapes every process of the test stack — the jobs of
deploy/prometheus/prometheus.yml, aimed at this machine's ports — and a redis_exporter reads the
stack's Redis with compose's key list. Traffic is made after Prometheus is up (a READY insight, a
voice note with no speech, a GET of an insight that does not exist), then every panel's query is
run as Grafana would send it: with the `service` variable on "All" (its custom all value, inserted
as is) and on two chosen services (escaped the way Grafana escapes them). Prometheus must accept
every query, every panel must have series, and the panels that show this traffic must show it.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.stack import Stack
from tests import polling
from tests.audio_files import silent_wav
from tests.conftest import bearer
from tests.e2e.test_pipeline_rest import wait_for
from tests.monitoring import (
    PrometheusServer,
    local_scrape_config,
    promtool_check_config,
    start_redis_exporter,
)
from tests.unit.deploy import grafana
from tests.unit.deploy.model import PROMETHEUS_PATH, dashboard, prometheus_config, services

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

SCRAPE_INTERVAL = "1s"
# Grafana's $__rate_interval for a 1 s scrape is 4 s; a wider window keeps a rate visible while
# the test polls, and every sample of this short-lived Prometheus fits in it.
RATE_INTERVAL = "1m"
# Polling bounds (not timing assertions): Prometheus scrapes every second.
SETTLE_SECONDS = 30.0
# Panels that may have no series in a healthy stack, and why.
MAY_BE_EMPTY = {
    "Upstream 5xx by cluster": (
        "Envoy creates a cluster's per-class counter at its first answer of that class; a healthy "
        "stack has no 5xx (tests/faults make them)"
    ),
    "Stage errors by stage and outcome": (
        "a stage that failed; the voice note with no speech fails after its transcribe stage "
        "succeeded (it shows as a failed job)"
    ),
    "Store calls refused at once (engine unreachable) by store": (
        "counts calls refused while an engine is unreachable (tests/faults); none here"
    ),
}


@pytest.fixture(scope="module")
def prometheus(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    work = tmp_path_factory.mktemp("prometheus")
    exporter_keys = services()["redis-exporter"]["environment"]["REDIS_EXPORTER_CHECK_SINGLE_KEYS"]
    exporter, exporter_address = start_redis_exporter(
        work, stack.config.effective_redis_url, exporter_keys
    )
    server = PrometheusServer(work)
    targets = {name: f"127.0.0.1:{port}" for name, port in stack.config.metrics_ports.items()}
    targets |= {
        "envoy": f"127.0.0.1:{stack.config.admin_port}",
        "redis": exporter_address,
        "prometheus": server.address,
    }
    try:
        server.start(local_scrape_config(prometheus_config(), targets, SCRAPE_INTERVAL))
        # Scraped once before the tests make traffic, so the traffic shows as an increase.
        polling.eventually(lambda: not targets_not_up(server), SETTLE_SECONDS)
        yield server
    finally:
        server.stop()
        exporter.stop()


@functools.cache
def deployed_jobs() -> frozenset[str]:
    return frozenset(job["job_name"] for job in prometheus_config()["scrape_configs"])


def targets_not_up(prometheus: PrometheusServer) -> list[str]:
    """Every deployed job's target that Prometheus has not scraped successfully (yet)."""
    targets = prometheus.targets()
    seen = {t["labels"]["job"] for t in targets}
    unseen = [f"{job}: no target" for job in deployed_jobs() - seen]
    return unseen + [
        f"{t['labels']['job']}: {t['health']} {t['lastError']}"
        for t in targets
        if t["health"] != "up"
    ]


def test_the_deployed_prometheus_config_is_valid() -> None:
    promtool_check_config(PROMETHEUS_PATH)


def test_every_deployed_job_is_scraped(prometheus: PrometheusServer) -> None:
    assert not targets_not_up(prometheus), targets_not_up(prometheus)


def make_traffic(rest: httpx.Client, person: dict[str, str]) -> None:
    """What the panels should show: a READY insight, a voice note with no speech (transcribed to
    nothing, the job fails it: FAILED), and a GET of an insight that does not exist (404,
    NOT_FOUND)."""
    auth = bearer(person["access"])
    created = rest.post(
        "/insights", json={"text": "Grafana reads Prometheus in Lisbon"}, headers=auth
    )
    audio = rest.post(
        "/insights/audio",
        content=silent_wav(1.0, 16_000),
        headers={**auth, "Content-Type": "audio/wav"},
    )
    for reply, expected in ((created, "READY"), (audio, "FAILED")):
        assert reply.status_code == 200, reply.text
        done = wait_for(rest, person["access"], reply.json()["insight"]["id"], {"READY", "FAILED"})
        assert done["status"] == expected, done
    missing = rest.get("/insights/00000000-0000-4000-8000-000000000000", headers=auth)
    assert missing.status_code == 404, missing.text


def scraped_everything_since(prometheus: PrometheusServer, moment: float) -> bool:
    """Every target has been scraped after `moment` (Unix seconds)."""
    oldest = prometheus.query("min(timestamp(up))")
    return bool(oldest) and float(oldest[0]["value"][1]) > moment


def has_series(result: list[dict[str, Any]], **labels: str) -> bool:
    """A series with these labels and a value above zero."""
    return any(
        all(series["metric"].get(k) == v for k, v in labels.items())
        and float(series["value"][1]) > 0
        for series in result
    )


# Panel title -> labels one of its series must carry, with a value above zero, after the traffic.
SHOWS_THE_TRAFFIC: dict[str, list[dict[str, str]]] = {
    "RPC rate by method": [{"grpc_service": "insighttracker.insight.v1.InsightService"}],
    "RPC errors by method and code": [{"grpc_method": "GetInsight", "grpc_code": "NOT_FOUND"}],
    "Requests by status class": [
        {"envoy_response_code_class": "2"},
        {"envoy_response_code_class": "4"},
    ],
    "Jobs by outcome": [{"outcome": "ready"}, {"outcome": "failed"}],
    "Stage latency p50 by stage": [{"stage": "analyze"}, {"stage": "link"}],
    "RQ jobs by queue, job and outcome": [
        {
            "queue": "pipeline",
            "function": "services.worker.jobs.process_insight",
            "outcome": "finished",
        }
    ],
    "Targets up": [{"job": "insight"}, {"job": "worker"}, {"job": "envoy"}, {"job": "redis"}],
}


def test_every_panel_query_runs_and_shows_the_traffic(
    prometheus: PrometheusServer, rest: httpx.Client, person: dict[str, str]
) -> None:
    board = dashboard()
    variables = grafana.query_variables(board)
    everything = {name: grafana.ALL for name in variables}
    queries: dict[str, list[str]] = {}
    for panel in grafana.panel_queries(board):
        expr = grafana.interpolate(panel.expr, variables, everything, RATE_INTERVAL)
        queries.setdefault(panel.title, []).append(expr)
    assert set(SHOWS_THE_TRAFFIC) <= set(queries), "a panel this test names is not on the board"
    # A labelled series is born at its first count, and rate() sees no increase in a series'
    # first sample: the first round creates the series, the second is what the panels must show.
    make_traffic(rest, person)
    finished = time.time()
    assert polling.eventually(
        lambda: scraped_everything_since(prometheus, finished), SETTLE_SECONDS
    )
    make_traffic(rest, person)

    def missing() -> list[str]:
        gaps = []
        for title, expected in SHOWS_THE_TRAFFIC.items():
            shown = [series for q in queries[title] for series in prometheus.query(q)]
            gaps += [
                f"{title}: no series with {labels} above 0 in {shown}"
                for labels in expected
                if not has_series(shown, **labels)
            ]
        return gaps

    assert polling.eventually(lambda: not missing(), SETTLE_SECONDS), missing()
    for title, exprs in queries.items():
        for expr in exprs:
            result = prometheus.query(expr)  # raises with Prometheus's own error if it refuses
            if title not in MAY_BE_EMPTY:
                assert result, f"{title}: no series for {expr}"
            for series in result:
                value = float(series["value"][1])
                assert math.isnan(value) or value >= 0, f"{title}: {series}"


def test_the_service_variable_narrows_every_rpc_panel(prometheus: PrometheusServer) -> None:
    board = dashboard()
    variables = grafana.query_variables(board)
    service = variables["service"]
    metric, label = grafana.label_values_query(service)
    keep = grafana.variable_regex(service)
    options = polling.eventually(
        lambda: sorted(v for v in prometheus.label_values(label, metric) if keep.search(v)),
        SETTLE_SECONDS,
    )
    assert "insighttracker.insight.v1.InsightService" in options, options
    chosen = ["insighttracker.insight.v1.InsightService", options[-1]]
    narrowed = [p for p in grafana.panel_queries(board) if "$service" in p.expr]
    assert narrowed, "no panel uses the service variable"
    for panel in narrowed:
        shown: dict[str, set[str]] = {}
        for selection in (grafana.ALL, chosen):
            expr = grafana.interpolate(panel.expr, variables, {"service": selection}, RATE_INTERVAL)
            shown[str(selection)] = {s["metric"][label] for s in prometheus.query(expr)}
        # Narrowing keeps exactly the chosen services' series of what "All" shows.
        assert shown[str(chosen)] == shown[grafana.ALL] & set(chosen), f"{panel.title}: {shown}"
        assert shown[grafana.ALL] <= set(options), f"{panel.title}: {shown}"
        if panel.title == "RPC rate by service":
            assert shown[str(chosen)] == set(chosen), shown
