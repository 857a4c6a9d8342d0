"""The one way our processes run an RQ worker (the pipeline's worker and the assistant's trainer).

SimpleWorker runs jobs in this process, so gRPC channels and stores opened at start-up stay open
between jobs (a forking worker would reconnect per job); with_scheduler runs the retries' backoff,
and a short maintenance interval restarts that scheduler soon if a Redis outage killed it.
"""

from __future__ import annotations

from rq import Queue, SimpleWorker

MAINTENANCE_INTERVAL_SECONDS = 30


def work(queue: Queue, log_level: str) -> None:
    """Takes jobs from `queue` until asked to stop (SIGTERM/SIGINT)."""
    worker = SimpleWorker(
        [queue], connection=queue.connection, maintenance_interval=MAINTENANCE_INTERVAL_SECONDS
    )
    worker.work(with_scheduler=True, logging_level=log_level)
