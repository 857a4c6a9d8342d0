"""Child processes of the local stack: start with logs to a file, wait until ready, stop cleanly."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Ports this process has handed out. A port is only free until someone binds it, and a stack
# asks for a dozen before its slowest service (nlp loads its models first) binds one: the kernel
# may offer a just-released port again, and two services once got the same one.
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now and that this process has not handed out before."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_dir: pathlib.Path,
        env: Mapping[str, str] | None = None,
        cwd: pathlib.Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._env = dict(env or os.environ)
        self._cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, detached: bool = False) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=self._cwd,
                # Detached processes survive the launcher (make up); attached ones share its
                # process group so Ctrl-C reaches them too.
                start_new_session=detached,
            )

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited while starting:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not {what} after {timeout:.0f}s:\n{self.log_tail()}")

    def start_until_ready(
        self, ready: Callable[[], bool], timeout: float, what: str, stop_timeout: float = 15.0
    ) -> None:
        """Starts the process and waits until `ready()`; stops it again if it never gets there,
        so a failed start leaves nothing running."""
        self.start()
        try:
            self.wait_until(ready, timeout, what)
        except BaseException:
            self.stop(timeout=stop_timeout)
            raise

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        """Ends the process at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def grpc_serving(address: str, service: str = "") -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            # types-grpcio-health-checking declares the methods on the servicer only.
            reply = stub.Check(  # type: ignore[attr-defined]
                health_pb2.HealthCheckRequest(service=service), timeout=1.0
            )
    except grpc.RpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as reply:  # noqa: S310 - loopback only
            return bool(reply.status == 200)
    except OSError:
        return False


def redis_ready(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def rq_worker_ready(redis_url: str, pid: int) -> bool:
    """True once the RQ worker with this pid has registered itself and waits for jobs."""
    from rq import Worker

    from services.common.redis_client import sync_redis

    try:
        return any(worker.pid == pid for worker in Worker.all(connection=sync_redis(redis_url)))
    except Exception:  # not ready yet, whatever the reason
        return False


def terminate_pid(pid: int, timeout: float = 15.0) -> None:
    """Stops a process this launcher started earlier (make down)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
