"""Deadlines and shutdown on the fault tests' stack: a frozen service (SIGSTOP) costs a client
no more than its own deadline; SIGTERM lets in-flight work finish (a service drains its calls,
the pipeline worker its job) while new calls are refused, then the process exits cleanly."""

from __future__ import annotations

import os
import signal
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from gateway.processes import ManagedProcess
from gateway.stack import Stack
from tests.conftest import bearer
from tests.faults.support import (
    SETTLE_SECONDS,
    create,
    get_insight,
    poll,
    ready_insight,
    restart_service,
)

pytestmark = [pytest.mark.envoy, pytest.mark.redis]


@contextmanager
def frozen(process: ManagedProcess) -> Iterator[None]:
    """The process stops being scheduled (as a hung or overloaded one would), then resumes."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def _active_upstream_calls(stack: Stack, cluster: str) -> int:
    stat = f"cluster.{cluster}.upstream_rq_active"
    url = f"http://127.0.0.1:{stack.config.admin_port}/stats?filter=^{stat}$"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text: str = reply.read().decode()
    return int(text.split(":")[1]) if text.startswith(stat) else 0


def _log_count(process: ManagedProcess, text: str) -> int:
    return process.log_path.read_text(errors="replace").count(text)


def _exited_cleanly(process: ManagedProcess) -> bool:
    return (
        poll(lambda: not process.alive())
        and process.process is not None
        and (process.process.returncode == 0)
    )


def test_a_frozen_service_costs_the_client_only_its_deadline(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    insight_id = ready_insight(rest, token, "Tokyo has great ramen")
    with frozen(stack.processes["graph"]):
        # The client's grpc-timeout is the services' deadline (the route timeout, 30 s,
        # otherwise); the client's own read timeout only catches a gateway that ignores it.
        reply = rest.get(
            f"/relationships/{insight_id}",
            headers={**bearer(token), "grpc-timeout": "1S"},
            timeout=15.0,
        )
        assert reply.status_code == 504, reply.text
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.json()["code"] == 4, reply.text  # DEADLINE_EXCEEDED
    assert poll(
        lambda: rest.get(f"/relationships/{insight_id}", headers=bearer(token)).status_code == 200
    )


def test_sigterm_drains_a_call_in_flight_and_refuses_new_ones(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """The graph service is stopped while a call of its waits on the (frozen) insight service:
    new calls get 503 meanwhile, the held call completes, and the process exits by itself."""
    token = person["access"]
    first, second = (ready_insight(rest, token, t) for t in ("Tokyo has great ramen", "Osaka too"))
    graph = stack.processes["graph"]
    link = {"sourceId": first, "targetId": second, "reason": "both about Japan"}
    with ThreadPoolExecutor(1) as pool:
        try:
            with frozen(stack.processes["insight"]):
                # Creating a link asks the insight service whether both insights are the caller's.
                held = pool.submit(rest.post, "/relationships", json=link, headers=bearer(token))
                assert poll(lambda: _active_upstream_calls(stack, "graph") == 1, 30)
                drained_before = _log_count(graph, '"msg": "draining"')
                graph.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
                # A call that reached the graph before it handled the signal would be taken and
                # held on the frozen insight service too; ask only once it is draining.
                assert poll(lambda: _log_count(graph, '"msg": "draining"') > drained_before, 30)
                refused = poll(
                    lambda: (
                        rest.get(f"/relationships/{first}", headers=bearer(token)).status_code
                        == 503
                    ),
                    30,
                )
                assert refused, "the stopping graph service still took new calls"
                assert graph.alive(), "the graph service quit with a call in flight"
            reply = held.result(SETTLE_SECONDS)
            assert reply.status_code == 200, reply.text
            assert reply.json()["relationship"]["type"] == "MANUAL"
            assert _exited_cleanly(graph), graph.log_tail()
        finally:
            graph.stop()  # already stopping; so a failure here does not leave it down for others
            restart_service(stack, "graph", stack.config.graph_port)
    listed = rest.get(f"/relationships/{first}", headers=bearer(token)).json()["relationships"]
    assert any(r["type"] == "MANUAL" and second in (r["sourceId"], r["targetId"]) for r in listed)


def test_sigterm_lets_the_worker_finish_its_job(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    """RQ's warm shutdown: a job held in flight (nlp frozen) finishes before the worker exits."""
    token = person["access"]
    worker = stack.processes["worker"]
    try:
        with frozen(stack.processes["nlp"]):
            insight_id = create(rest, token, "Apple is opening a research lab in Berlin")
            # Claimed: the job now waits on nlp.
            assert poll(lambda: get_insight(rest, token, insight_id)["status"] == "PROCESSING")
            worker.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert _exited_cleanly(worker), worker.log_tail()
        # Finished by the stopping worker itself: nobody else was there to do it.
        assert get_insight(rest, token, insight_id)["status"] == "READY"
    finally:
        worker.stop()  # already stopping; so a failure here does not leave it down for others
        stack.start_worker()
    ready_insight(rest, token, "Microsoft hired engineers in Paris")
