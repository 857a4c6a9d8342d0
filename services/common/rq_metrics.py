"""Prometheus metrics of our RQ processes (the pipeline worker, the trainer): every job's
duration and end, and the queue's depth and oldest waiting job, read from Redis at scrape time."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Queue
from rq.utils import str_to_date

log = logging.getLogger(__name__)

RQ_JOB_SECONDS = Histogram(
    "insight_rq_job_seconds",
    "Time one RQ job attempt took in this worker, by queue, job function and outcome.",
    ["queue", "function", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
RQ_JOBS = Counter(
    "insight_rq_jobs_total",
    "RQ job attempts, by queue, job function and outcome (finished, failed, retried, ...).",
    ["queue", "function", "outcome"],
)
QUEUE_JOBS = "insight_rq_queue_jobs"
OLDEST_AGE = "insight_rq_oldest_queued_job_age_seconds"


def observe_job(queue: str, job: str, outcome: str, seconds: float) -> None:
    RQ_JOB_SECONDS.labels(queue, job, outcome).observe(seconds)
    RQ_JOBS.labels(queue, job, outcome).inc()


class QueueCollector(Collector):
    """Jobs per state of one queue, and the age of the job waiting longest. A handful of O(1)
    Redis reads per scrape; every replica reports the same values (dashboards take the max)."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        jobs, oldest = self._families()
        try:
            for state, count in self._counts().items():
                jobs.add_metric([self._queue.name, state], count)
            oldest.add_metric([self._queue.name], self._oldest_age())
        except RedisError as error:
            # A scrape must not fail because Redis is down; the series go missing instead.
            log.warning("queue metrics unavailable", extra={"error": str(error)})
            return []
        return [jobs, oldest]

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                QUEUE_JOBS,
                "Jobs of an RQ queue by state: queued (waiting), started, scheduled (a retry's "
                "backoff), deferred, failed.",
                labels=["queue", "state"],
            ),
            GaugeMetricFamily(
                OLDEST_AGE,
                "How long the oldest job waiting in an RQ queue has waited (0 when none waits).",
                labels=["queue"],
            ),
        )

    def _counts(self) -> dict[str, int]:
        q = self._queue
        redis = q.connection
        registries = {
            "started": q.started_job_registry.key,
            "scheduled": q.scheduled_job_registry.key,
            "deferred": q.deferred_job_registry.key,
            "failed": q.failed_job_registry.key,
        }
        counts = {"queued": int(redis.llen(q.key))}
        for state, key in registries.items():
            counts[state] = int(redis.zcard(key))
        return counts

    def _oldest_age(self) -> float:
        redis = self._queue.connection
        head = redis.lindex(self._queue.key, 0)  # RQ pushes at the tail, pops at the head
        if head is None:
            return 0.0
        job_id = head.decode() if isinstance(head, bytes) else str(head)
        enqueued = redis.hget(self._queue.job_class.key_for(job_id), "enqueued_at")
        if not enqueued:
            return 0.0
        at = str_to_date(enqueued)
        return max(0.0, (dt.datetime.now(dt.UTC) - at.replace(tzinfo=dt.UTC)).total_seconds())
