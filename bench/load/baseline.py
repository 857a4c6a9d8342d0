"""The bare baseline: bench/load/bare_service.py (grpc.aio answering GetInsight with a fixed
insight: no interceptor, auth, store or log), as many processes as the stack has insight
replicas, behind an Envoy rendered from the same envoy.yaml and launched by the same code
(Stack.start_envoy), so the transcoder, filters and access log are identical. It answers any id;
`targets` (no Authorization header) serve standalone use — bench.load sends it the project's own
requests, token included."""

from __future__ import annotations

import functools
import pathlib
import sys
from collections.abc import Sequence

from bench.common import make_scratch_dir, remove_scratch_dir, with_bench_limits
from bench.load.loadgen import Target
from gateway.processes import ManagedProcess, free_port, grpc_serving
from gateway.stack import ROOT, Stack, StackConfig

PATHS = [f"/insights/{n:032x}" for n in range(64)]


class BareGateway:
    def __init__(self, replicas: int, runner: Sequence[str] = ()) -> None:
        """`runner`: a module (and its arguments) to run the bare service under, as
        `python -m RUNNER... bench.load.bare_service --port N` (bench/load/traced_process.py).
        Nothing is made until `with`: the scratch folder and processes belong to the block."""
        self._replicas = replicas
        self._runner = tuple(runner)
        self.targets = [Target("get", "GET", PATHS)]
        self.services: list[ManagedProcess] = []
        self._base: pathlib.Path | None = None
        self._gateway: Stack | None = None

    def __enter__(self) -> BareGateway:
        self._base = make_scratch_dir("insight-bare-")
        try:
            self._gateway = gateway = self._prepare(self._base)
            for service, port in zip(self.services, gateway.insight_ports, strict=True):
                service.start()
                ready = functools.partial(grpc_serving, f"127.0.0.1:{port}")
                service.wait_until(ready, 30, "serving")
            gateway.start_envoy()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _prepare(self, base: pathlib.Path) -> Stack:
        # Same gateway settings as the project's stack, so the same filters do the same work.
        config = with_bench_limits(StackConfig.on_free_ports(base / "data", base / "run"))
        gateway = Stack(config)
        ports = [free_port() for _ in range(self._replicas)]
        config.insight_port, gateway.insight_ports = ports[0], ports
        command = [sys.executable, "-m", *self._runner, "bench.load.bare_service", "--port"]
        self.services = [
            ManagedProcess(
                f"bare-{n + 1}",
                [*command, str(port)],
                config.run_dir / "logs",
                env=gateway.service_env(),
                cwd=ROOT,
            )
            for n, port in enumerate(ports)
        ]
        return gateway

    def _stop(self) -> None:
        if self._gateway is not None:
            self._gateway.stop()
        for service in self.services:
            service.stop()
        if self._base is not None:
            remove_scratch_dir(self._base)
            self._base = None

    def _running(self) -> Stack:
        if self._gateway is None:
            raise RuntimeError("BareGateway is used inside its `with` block only")
        return self._gateway

    @property
    def rest_url(self) -> str:
        return self._running().config.rest_url

    @property
    def pids(self) -> dict[str, int]:
        envoy = self._running().processes["envoy"].pid
        return {s.name: s.pid for s in self.services} | {"envoy": envoy}
