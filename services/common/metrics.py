"""Prometheus metrics shared by every service, exported on INSIGHT_METRICS_PORT when set."""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram, start_http_server

RPC_LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Time to handle one RPC, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
STORE_CALLS_REFUSED = Counter(
    "store_calls_refused_total",
    "Store calls answered Unavailable at once: the engine was found unreachable moments before "
    "(services/common/store_guard.py), so the call did not wait out the driver's timeouts.",
    ["store"],
)


# (full method, code) -> its two labelled series; `labels()` locks and builds a key per call.
# Bounded by the registered methods times the status codes.
_RPC_SERIES: dict[tuple[str, str], tuple[Histogram, Counter]] = {}


def observe_rpc(full_method: str, code: str, seconds: float) -> None:
    series = _RPC_SERIES.get((full_method, code))
    if series is None:
        service, _, method = full_method.lstrip("/").partition("/")
        series = (
            RPC_LATENCY.labels(service, method, code),
            RPC_HANDLED.labels(service, method, code),
        )
        _RPC_SERIES[(full_method, code)] = series
    series[0].observe(seconds)
    series[1].inc()


def start_metrics_server(port: int, host: str) -> None:
    if port:
        server, _ = start_http_server(port, addr=host)
        # A forked child (RQ's scheduler) must not inherit the listening socket: it serves
        # nothing, and would hold the port after this process dies, so a restart could not bind.
        os.register_at_fork(after_in_child=server.socket.close)
