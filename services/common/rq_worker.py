"""The one way our processes run an RQ worker (the pipeline's worker and the assistant's trainer).

SimpleWorker runs jobs in this process, so gRPC channels and stores opened at start-up stay open
between jobs (a forking worker would reconnect per job) and the jobs' metrics land in this
process's registry, served on INSIGHT_METRICS_PORT. with_scheduler runs the retries' backoff (in a
forked child that records no metrics), and a short maintenance interval restarts that scheduler
soon if a Redis outage killed it.

While a job runs, it beats (services/common/job_heartbeat.py): the pipeline's sweeper leaves a
job alone while its worker is alive.

Every log line of a job, RQ's own included, carries the request id of the call that queued it
(job.meta); lines between jobs carry the process's background id (services/common/logs.py).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import REGISTRY
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from services.common.config import Settings
from services.common.job_heartbeat import JOB_HEARTBEAT_SECONDS, JobHeartbeat
from services.common.metrics import start_metrics_server
from services.common.redis_client import sync_redis
from services.common.request_context import JOB_META_REQUEST_ID, request_id_var
from services.common.rq_metrics import QueueCollector, observe_job

MAINTENANCE_INTERVAL_SECONDS = 30
_RETRYING = {JobStatus.SCHEDULED, JobStatus.QUEUED}


def job_request_id(job: Job) -> str:
    return str(job.meta.get(JOB_META_REQUEST_ID) or f"job-{job.id}")


class _RequestScopedQueue(Queue):
    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> tuple[Job, Queue] | None:
        # Set here, before RQ logs the dequeued job, so that line carries the job's id too.
        found = super().dequeue_any(*args, **kwargs)
        if found is not None:
            request_id_var.set(job_request_id(found[0]))
        return found


class ObservedWorker(SimpleWorker):
    """SimpleWorker that scopes log lines to the job's request id and records job metrics."""

    queue_class = _RequestScopedQueue
    job_heartbeat_seconds = JOB_HEARTBEAT_SECONDS

    def execute_job(self, job: Job, queue: Queue) -> None:
        request_id_var.set(job_request_id(job))
        started = time.perf_counter()
        try:
            with JobHeartbeat(job, self.job_heartbeat_seconds):
                super().execute_job(job, queue)
        finally:
            status = job.get_status(refresh=False)
            outcome = "retried" if status in _RETRYING else str(getattr(status, "value", status))
            observe_job(queue.name, job.func_name or "", outcome, time.perf_counter() - started)
            request_id_var.set("")


def work(queue: Queue, settings: Settings) -> None:
    """Takes jobs from `queue` until asked to stop (SIGTERM/SIGINT)."""
    # Scrapes read Redis on their own short-timeout client, never the worker's blocking one.
    REGISTRY.register(QueueCollector(Queue(queue.name, connection=sync_redis(settings.redis_url))))
    start_metrics_server(settings.metrics_port, settings.bind_host)
    # By name: RQ builds the queue of its queue_class (the request-scoped one).
    worker = ObservedWorker(
        [queue.name], connection=queue.connection, maintenance_interval=MAINTENANCE_INTERVAL_SECONDS
    )
    worker.work(with_scheduler=True, logging_level=settings.log_level)
