"""Python-level calls per GET /insights/{id}: an insight process against the bare service.

    python -m bench.load.call_count [--rate 200] [--seconds 5] [--top 40]

CPU time per request on this machine drifts by a quarter between minutes, so a change of a few
percent cannot be seen in it. The number of Python functions (and builtins) a request runs is
deterministic: this starts the embedded stack with one insight process and the bare service
(bench/load/baseline.py), each under bench/load/traced_process.py, sends the same GETs at a
fixed --rate through Envoy for --seconds while counting, and prints calls per request for both
and the functions where they differ. It counts calls, not their cost: one SQLite query and one
`len()` are one call each.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import pathlib
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence

import httpx

from bench.common import running_stack
from bench.load import loadgen
from bench.load.baseline import BareGateway
from bench.load.loadgen import Target
from bench.load.workload import prepare, read_targets, wait_for_pipeline
from gateway.processes import ManagedProcess, grpc_serving
from gateway.stack import Stack

TRACER = ("bench.load.traced_process",)
Calls = collections.Counter[str]


def count_calls(
    process: ManagedProcess,
    out: pathlib.Path,
    url: str,
    targets: list[Target],
    rate: float,
    seconds: float,
) -> tuple[int, Calls]:
    """Requests sent and the calls the traced process made while they ran."""
    loadgen.run(url, targets, mode="open", rate=rate, seconds=2)  # warm: first-call paths
    os.kill(process.pid, signal.SIGUSR1)
    time.sleep(0.2)
    report = loadgen.run(url, targets, mode="open", rate=rate, seconds=seconds, warmup_seconds=0)
    time.sleep(0.5)  # let the last answers finish inside the counted span
    os.kill(process.pid, signal.SIGUSR2)
    process.wait_until(out.exists, 30, f"done writing its call counts to {out}")
    total = report["total"]
    if sum(total["errors"].values()):
        raise RuntimeError(f"requests failed while counting: {total['errors']}")
    calls: Calls = collections.Counter(json.loads(out.read_text(encoding="utf-8")))
    return int(total["count"]), calls


def traced_insight(stack: Stack, out: pathlib.Path) -> ManagedProcess:
    """Replaces the stack's insight process with a traced one on the same port."""
    stack.processes["insight"].stop()
    argv = [sys.executable, "-m", *TRACER, str(out), "services.insight.server"]
    process = stack.add_process("insight", argv)
    process.start()
    ready = functools.partial(grpc_serving, f"127.0.0.1:{stack.config.insight_port}")
    process.wait_until(ready, 60, "serving")
    return process


def project_calls(work: pathlib.Path, rate: float, seconds: float) -> tuple[int, Calls]:
    out = work / "insight.json"
    with running_stack() as stack:
        client = httpx.Client(base_url=stack.config.rest_url, timeout=60.0)
        people = prepare(client, users=4, insights_per_user=10)
        wait_for_pipeline(client, people)
        traced = traced_insight(stack, out)
        return count_calls(traced, out, stack.config.rest_url, read_targets(people), rate, seconds)


def bare_calls(work: pathlib.Path, rate: float, seconds: float) -> tuple[int, Calls]:
    out = work / "bare.json"
    with BareGateway(1, runner=(*TRACER, str(out))) as bare:
        return count_calls(bare.services[0], out, bare.rest_url, bare.targets, rate, seconds)


def per_request(calls: Mapping[str, int], requests: int) -> dict[str, float]:
    return {name: n / requests for name, n in calls.items()}


def report(project: dict[str, float], bare: dict[str, float], top: int) -> list[str]:
    ours = sum(n for name, n in project.items() if name.startswith("services/"))
    lines = [
        f"Python-level calls per GET /insights/{{id}}: insight process {sum(project.values()):.0f}"
        f", bare service {sum(bare.values()):.0f} (difference "
        f"{sum(project.values()) - sum(bare.values()):+.0f}); in services/ code itself {ours:.0f}",
        f"functions whose calls per request differ most (insight - bare, top {top}):",
    ]
    names = set(project) | set(bare)
    diffs = sorted(names, key=lambda n: (-abs(project.get(n, 0.0) - bare.get(n, 0.0)), n))
    for name in diffs[:top]:
        diff = project.get(name, 0.0) - bare.get(name, 0.0)
        if abs(diff) >= 0.05:
            lines.append(f"  {diff:+7.2f}  {name}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.call_count", description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    loadgen.build()
    with tempfile.TemporaryDirectory(prefix="insight-calls-") as directory:
        work = pathlib.Path(directory)
        project_requests, project = project_calls(work, args.rate, args.seconds)
        bare_requests, bare = bare_calls(work, args.rate, args.seconds)
    print(
        f"{project_requests} GETs to the insight process, {bare_requests} to the bare one, "
        f"at {args.rate:.0f} req/s"
    )
    for line in report(
        per_request(project, project_requests), per_request(bare, bare_requests), args.top
    ):
        print(line)


if __name__ == "__main__":
    main()
