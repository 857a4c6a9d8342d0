"""A running RQ job's heartbeat, both sides: the worker writes the job's `last_heartbeat` every
JOB_HEARTBEAT_SECONDS from a thread of its own (SimpleWorker runs the job in the worker's own
thread, so nothing else would show that a long job — a 10-minute voice note, a call waiting out
its deadline — is still in hand), and the pipeline's sweeper reads it before queueing a job
again (services/common/pipeline_jobs.py). Kept apart from rq_worker.py so that readers (the
insight service queues jobs too) need not import the worker and its metrics."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from redis.exceptions import RedisError
from rq.job import Job
from rq.utils import now, utcformat

JOB_HEARTBEAT_SECONDS = 5.0
# A running job whose worker has not beaten for this long is taken for dead (killed, or its
# machine gone): a few missed beats, so a busy moment is not mistaken for a death.
SILENT_WORKER = dt.timedelta(seconds=4 * JOB_HEARTBEAT_SECONDS)

log = logging.getLogger(__name__)


def still_beating(job: Job) -> bool:
    """Whether the worker running `job` beat recently. Compares timestamps of different
    machines: their clocks are assumed to agree within seconds."""
    beat = job.last_heartbeat
    return beat is not None and dt.datetime.now(dt.UTC) - beat < SILENT_WORKER


class JobHeartbeat:
    """Beats for `job` every `interval` seconds from a thread of its own, until the block ends."""

    def __init__(self, job: Job, interval: float = JOB_HEARTBEAT_SECONDS) -> None:
        self._job = job
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> JobHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                # Only the field, never job.save(): the job's own thread owns the rest of it.
                self._job.connection.hset(self._job.key, "last_heartbeat", utcformat(now()))
            except RedisError:
                # Redis is away: the job's own calls will say so; a missed beat only risks a
                # duplicate run, which the pipeline tolerates.
                log.warning("job heartbeat failed", extra={"job_id": self._job.id})
