"""The pipeline's RQ queue: its name, and the one way a processing job is queued.

Both the insight service (on create/edit) and the worker's sweeper (re-queueing stale insights)
queue jobs, so the job's name, id scheme and retry policy live here once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from services.common.job_heartbeat import still_beating
from services.common.request_context import job_meta

PIPELINE_QUEUE = "pipeline"
# Referenced by name so the insight service never imports worker code.
PROCESS_INSIGHT_JOB = "services.worker.jobs.process_insight"
JOB_TIMEOUT_SECONDS = 15 * 60  # a 10-minute voice note must fit
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED}
OVERDUE = dt.timedelta(seconds=15)
# A failed job is kept a week to be looked at; a finished one only briefly: nothing reads its
# result, and at 5 creates/s an hour of them held ~120 MiB of Redis.
FAILED_JOB_TTL_SECONDS = 7 * 24 * 3600
FINISHED_JOB_TTL_SECONDS = 300


def pipeline_queue(connection: redis.Redis) -> Queue:
    return Queue(PIPELINE_QUEUE, connection=connection)


def process_job_id(insight_id: str, version: int) -> str:
    return f"insight-{insight_id}-v{version}"


def is_in_hand(queue: Queue, insight_id: str, version: int) -> bool:
    """True when this version's job will get there without help: queued, scheduled for a retry
    that is not overdue (RQ's scheduler can die with a Redis outage, leaving retries stranded),
    or running on a worker that still beats (services/common/job_heartbeat.py)."""
    try:
        job = Job.fetch(process_job_id(insight_id, version), connection=queue.connection)
        status = job.get_status()
        if status == JobStatus.SCHEDULED:
            due: dt.datetime = queue.scheduled_job_registry.get_scheduled_time(job)
            return bool(dt.datetime.now(dt.UTC) - due < OVERDUE)
        if status == JobStatus.STARTED:
            return still_beating(job)
    except NoSuchJobError:
        return False
    return status in _WAITING


def enqueue_process_insight(
    queue: Queue,
    insight_id: str,
    version: int,
    request_id: str,
    retry_intervals: Sequence[int],
) -> None:
    """`retry_intervals`: seconds before each retry (Settings.job_retry_intervals_seconds)."""
    queue.enqueue(
        PROCESS_INSIGHT_JOB,
        insight_id,
        version,
        # The id names the version; the job itself is idempotent, so a re-queue is harmless.
        job_id=process_job_id(insight_id, version),
        retry=Retry(max=len(retry_intervals), interval=list(retry_intervals))
        if retry_intervals
        else None,
        job_timeout=JOB_TIMEOUT_SECONDS,
        # The request id goes in meta, not the arguments: re-queueing a running job (the
        # sweeper) rewrites meta but RQ then saves the running job's arguments back over it.
        meta=job_meta(request_id),
        failure_ttl=FAILED_JOB_TTL_SECONDS,
        result_ttl=FINISHED_JOB_TTL_SECONDS,
    )
