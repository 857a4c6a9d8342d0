"""Shared bits of the benchmarks: percentiles, a scratch folder, a stack on free ports, a
logged-in client."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator

import httpx

from gateway.stack import Stack, StackConfig


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, values_ms: list[float]) -> str:
    return (
        f"{name}: n={len(values_ms)} p50={percentile(values_ms, 50):.1f} ms "
        f"p95={percentile(values_ms, 95):.1f} ms p99={percentile(values_ms, 99):.1f} ms"
    )


def with_bench_limits(config: StackConfig) -> StackConfig:
    """The benchmark measures the service, not the gateway's protective rate limits: one client
    address and a few people drive all the load. The limits stay on, with room, so their cost
    (Envoy's listener and per-IP buckets, the per-person count in the admission script) is part
    of every figure."""
    config.rate_limit_tokens = config.rate_limit_fill_per_second = 100_000
    config.ip_rate_limit_tokens = config.ip_rate_limit_fill_per_second = 100_000
    config.extra_env["INSIGHT_USER_RATE_LIMIT"] = "1000000000"
    return config


def make_scratch_dir(prefix: str) -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))


def remove_scratch_dir(path: pathlib.Path) -> None:
    """A run's stores and service logs (tens of MB after a load run) go when it ends; with
    INSIGHT_BENCH_KEEP set they stay for reading the logs, and the path is printed."""
    if os.environ.get("INSIGHT_BENCH_KEEP"):
        print(f"kept the run's stores and logs: {path}", file=sys.stderr)
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[pathlib.Path]:
    path = make_scratch_dir(prefix)
    try:
        yield path
    finally:
        remove_scratch_dir(path)


@contextlib.contextmanager
def running_stack(
    extra_workers: int = 0, insight_replicas: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """The embedded stack on free ports in a scratch folder, stopped and removed afterwards."""
    with scratch_dir("insight-bench-") as base:
        config = with_bench_limits(StackConfig.on_free_ports(base / "data", base / "run"))
        config.insight_replicas = insight_replicas
        config.extra_env.update(extra_env or {})
        stack = Stack(config)
        try:
            stack.start()
            for n in range(extra_workers):
                stack.start_worker(name=f"worker-{n + 2}")
            yield stack
        finally:
            stack.stop()


def logged_in_client(stack: Stack) -> httpx.Client:
    client = httpx.Client(base_url=stack.config.rest_url, timeout=60.0)
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    client.post("/auth/register", json={"email": email, "password": password}).raise_for_status()
    tokens = client.post("/auth/login", json={"email": email, "password": password}).json()
    client.headers["Authorization"] = f"Bearer {tokens['accessToken']}"
    return client
