"""Container health checks (docker-compose.yml runs them): exit 0 when healthy, else 1.

    python -m gateway.healthcheck 127.0.0.1:50051           # gRPC health, the server overall
    python -m gateway.healthcheck 127.0.0.1:50051 SERVICE   # ... or one service of it
    python -m gateway.healthcheck http://127.0.0.1:9901/ready   # HTTP 200 (Envoy admin /ready)
    python -m gateway.healthcheck rq-worker                 # this host's RQ worker is registered

`rq-worker` reads INSIGHT_REDIS_URL, as the worker does, and looks for a worker registered from
this container's host name (one worker process per container).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence

from gateway.processes import grpc_serving, http_ok

RQ_WORKER = "rq-worker"
USAGE = "usage: python -m gateway.healthcheck HOST:PORT [SERVICE] | http://URL | rq-worker"


def rq_worker_registered(redis_url: str, hostname: str) -> bool:
    from rq import Worker

    from services.common.redis_client import sync_redis

    try:
        workers = Worker.all(connection=sync_redis(redis_url))
    except Exception:  # Redis unreachable: unhealthy, whatever the reason
        return False
    return any(worker.hostname == hostname for worker in workers)


def check(argv: Sequence[str]) -> bool:
    """True when the target named by `argv` is healthy; ValueError when `argv` names none."""
    if not argv or len(argv) > 2:
        raise ValueError(USAGE)
    target = argv[0]
    if target == RQ_WORKER and len(argv) == 1:
        redis_url = os.environ.get("INSIGHT_REDIS_URL", "redis://127.0.0.1:6379/0")
        return rq_worker_registered(redis_url, socket.gethostname())
    if target.startswith(("http://", "https://")) and len(argv) == 1:
        return http_ok(target)
    host, colon, port = target.rpartition(":")
    if not host or not colon or not port.isdigit():
        raise ValueError(USAGE)
    return grpc_serving(target, argv[1] if len(argv) == 2 else "")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        healthy = check(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1  # Docker reserves exit code 2
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
