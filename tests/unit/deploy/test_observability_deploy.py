"""The dashboard and Prometheus against the code: every metric a Grafana panel queries is one our
processes register (read from prometheus_client's registry after importing the modules that define
them) or one Envoy, redis-exporter or Prometheus exports; the RQ workers and Envoy are scraped; the
dashboard covers what the issue asks for. Run by scripts/check_deploy.sh."""

from __future__ import annotations

from collections.abc import Iterable

import redis
from prometheus_client import REGISTRY, Metric
from rq import Queue

import services.common.metrics
import services.common.rq_metrics
import services.worker.metrics
from services.common.rq_metrics import QueueCollector
from tests.unit.deploy.model import (
    ENVOY_METRICS,
    EXPORTER_METRICS,
    PROMETHEUS_METRICS,
    RQ_WORKER_MODULES,
    dashboard,
    promql_metrics,
    python_services,
    scrape_targets,
)

# The modules whose import registers our metrics (what the processes serve on /metrics).
METRIC_MODULES = (services.common.metrics, services.common.rq_metrics, services.worker.metrics)


def sample_names(families: Iterable[Metric]) -> set[str]:
    """The sample names Prometheus stores for these metric families."""
    names: set[str] = set()
    for family in families:
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
        else:
            names.add(family.name)
    return names


def registered_metric_names() -> set[str]:
    # The queue collector is registered by the RQ worker at start; describe() reads no Redis.
    unconnected = Queue("pipeline", connection=redis.Redis(host="127.0.0.1", port=1))
    return sample_names(REGISTRY.collect()) | sample_names(QueueCollector(unconnected).describe())


def dashboard_queries() -> list[str]:
    board = dashboard()
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return queries + [
        v["query"]["query"] for v in board["templating"]["list"] if v.get("type") == "query"
    ]


def test_registry_sees_our_metrics() -> None:
    names = registered_metric_names()
    assert {
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "insight_pipeline_stage_seconds_bucket",
        "insight_pipeline_jobs_total",
        "insight_rq_jobs_total",
        "insight_rq_queue_jobs",
        "insight_rq_oldest_queued_job_age_seconds",
        "store_calls_refused_total",
    } <= names


def test_dashboard_queries_only_metrics_that_exist() -> None:
    known = registered_metric_names() | ENVOY_METRICS | EXPORTER_METRICS | PROMETHEUS_METRICS
    for query in dashboard_queries():
        metrics = promql_metrics(query)
        assert metrics, f"no metric in {query!r}"
        assert metrics <= known, f"unknown metrics {sorted(metrics - known)} in {query!r}"


def test_dashboard_covers_rpcs_pipeline_queues_and_envoy() -> None:
    used = set().union(*(promql_metrics(q) for q in dashboard_queries()))
    assert {
        # per-RPC rate, latency, error ratio
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        # pipeline stage latency, jobs by outcome, queue depth and age
        "insight_pipeline_stage_seconds_bucket",
        "insight_pipeline_jobs_total",
        "insight_rq_queue_jobs",
        "insight_rq_oldest_queued_job_age_seconds",
        "insight_rq_jobs_total",
        # Envoy: requests by code class, upstream latency, local rate limit hits
        "envoy_http_downstream_rq_xx",
        "envoy_cluster_upstream_rq_time_bucket",
        "envoy_http_local_rate_limit_rate_limited",
        # a store found unreachable: calls refused at once
        "store_calls_refused_total",
    } <= used
    stage_panels = [
        target["expr"]
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
        if "insight_pipeline_stage_seconds_bucket" in target["expr"]
    ]
    assert any(q.startswith("histogram_quantile(0.5,") for q in stage_panels)
    assert any(q.startswith("histogram_quantile(0.95,") for q in stage_panels)
    assert all("by (le, stage)" in q for q in stage_panels)


def test_prometheus_scrapes_the_rq_workers_and_envoy() -> None:
    targets = scrape_targets()
    workers = [s for s in python_services().values() if s.module in RQ_WORKER_MODULES]
    assert {s.name for s in workers} == {"worker", "assistant-trainer"}
    for service in workers:
        port = service.environment.get("INSIGHT_METRICS_PORT")
        assert port, f"{service.name} exports no metrics"
        assert port in [str(p) for p in service.definition.get("expose", [])], service.name
        assert targets[service.name][1:] == (int(port), "/metrics"), service.name
    assert targets["envoy"][2] == "/stats/prometheus"
