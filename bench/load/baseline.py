"""The bare baseline: bench/load/bare_service.py (grpc.aio answering GetInsight with a fixed
insight: no interceptor, auth, store or log), as many processes as the stack has insight
replicas, behind an Envoy rendered from the same envoy.yaml and launched by the same code
(Stack.start_envoy), so the transcoder, filters and access log are identical."""

from __future__ import annotations

import functools
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
        `python -m RUNNER... bench.load.bare_service --port N` (bench/load/traced_process.py)."""
        self._base = base = make_scratch_dir("insight-bare-")
        # Same gateway settings as the project's stack, so the same filters do the same work.
        self.config = with_bench_limits(StackConfig.on_free_ports(base / "data", base / "run"))
        self._gateway = Stack(self.config)
        ports = [free_port() for _ in range(replicas)]
        self.config.insight_port, self._gateway.insight_ports = ports[0], ports
        self.services = [
            ManagedProcess(
                f"bare-{n + 1}",
                [sys.executable, "-m", *runner, "bench.load.bare_service", "--port", str(port)],
                self.config.run_dir / "logs",
                env=self._gateway.service_env(),
                cwd=ROOT,
            )
            for n, port in enumerate(ports)
        ]
        self.targets = [Target("get", "GET", PATHS)]

    def __enter__(self) -> BareGateway:
        try:
            for service, port in zip(self.services, self._gateway.insight_ports, strict=True):
                service.start()
                ready = functools.partial(grpc_serving, f"127.0.0.1:{port}")
                service.wait_until(ready, 30, "serving")
            self._gateway.start_envoy()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _stop(self) -> None:
        self._gateway.stop()
        for service in self.services:
            service.stop()
        remove_scratch_dir(self._base)

    @property
    def pids(self) -> dict[str, int]:
        envoy = self._gateway.processes["envoy"].pid
        return {s.name: s.pid for s in self.services} | {"envoy": envoy}
