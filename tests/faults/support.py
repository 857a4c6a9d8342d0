"""What the fault tests share: a stack of their own on free ports (they stop its processes, so
never the session's), polling with generous bounds (never assertions on elapsed time), and the
REST calls and checks they repeat."""

from __future__ import annotations

import functools
import pathlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from gateway.processes import grpc_serving, redis_ready
from gateway.stack import START_TIMEOUT_SECONDS, Stack, StackConfig
from tests.conftest import bearer, with_roomy_limits

SETTLE_SECONDS = 120.0  # every poll is bounded by this
# Re-queue stuck insights quickly, and give up retrying a job soon (then the insight waits
# PENDING for the sweeper), so recovery happens in seconds.
FAST_RECOVERY = {
    "INSIGHT_STALE_AFTER": "3",
    "INSIGHT_SWEEP_INTERVAL": "1",
    "INSIGHT_JOB_RETRY_INTERVALS": "1,4",
    "INSIGHT_REQUEUE_BACKOFF": "1",
    "INSIGHT_REQUEUE_BACKOFF_MAX": "4",
}


def running_stack(base: pathlib.Path, env: Mapping[str, str] | None = None) -> Iterator[Stack]:
    """A whole stack behind Envoy under `base`, for one fixture; stopped afterwards."""
    config = StackConfig.on_free_ports(base / "data", base / "run")
    config.extra_env.update(FAST_RECOVERY)
    config.extra_env.update(env or {})
    stack = Stack(with_roomy_limits(config))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def rest_client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.config.rest_url, timeout=30.0)


def poll(check: Callable[[], bool], seconds: float = SETTLE_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def get_insight(rest: httpx.Client, token: str, insight_id: str) -> dict[str, Any]:
    reply = rest.get(f"/insights/{insight_id}", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()["insight"]
    return found


def wait_status(
    rest: httpx.Client, token: str, insight_id: str, statuses: set[str]
) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        insight = get_insight(rest, token, insight_id)
        if insight["status"] in statuses or time.monotonic() > deadline:
            return insight
        time.sleep(0.1)


def create(rest: httpx.Client, token: str, text: str) -> str:
    reply = rest.post("/insights", json={"text": text}, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    insight_id: str = reply.json()["insight"]["id"]
    return insight_id


def ready_insight(rest: httpx.Client, token: str, text: str) -> str:
    """A new insight, once the pipeline has made it READY."""
    insight_id = create(rest, token, text)
    insight = wait_status(rest, token, insight_id, {"READY", "FAILED"})
    assert insight["status"] == "READY", insight["statusReason"]
    return insight_id


def neighbours(rest: httpx.Client, token: str, insight_id: str) -> set[str]:
    reply = rest.get(f"/relationships/{insight_id}", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    return {
        r["targetId"] if r["sourceId"] == insight_id else r["sourceId"]
        for r in reply.json()["relationships"]
    }


def is_json_503(reply: httpx.Response) -> str:
    """A clear, machine-readable 503: grpc code 14 and a message, no stack trace."""
    assert reply.status_code == 503, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert body["code"] == 14, body
    message = body["message"]
    assert isinstance(message, str) and message
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    return message


def restart_service(stack: Stack, name: str, port: int) -> None:
    process = stack.processes[name]
    assert not process.alive()
    process.start()  # same argv, env and port as before
    process.wait_until(
        functools.partial(grpc_serving, f"127.0.0.1:{port}"), START_TIMEOUT_SECONDS, "serving"
    )


def restart_redis(stack: Stack) -> None:
    redis = stack.processes["redis"]
    assert not redis.alive()
    redis.start()
    redis.wait_until(lambda: redis_ready(stack.config.redis_port), 30, "answering PING")
