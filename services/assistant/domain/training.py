"""Training jobs as the API sees them: StartTraining queues one, GetTrainingJob reads it.

A person has at most one job waiting or running: StartTraining while one is unfinished returns
that job. A job unfinished for longer than LOST_AFTER (its worker died) is marked FAILED and a
new one is queued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable

from services.assistant.domain.models import JobStatus, TrainingJob
from services.assistant.domain.ports import TrainingJobStore, TrainingQueue
from services.common.clock import utc_now
from services.common.errors import NotFound, Unavailable

LOST_AFTER = dt.timedelta(hours=2)


def new_job_id() -> str:
    return uuid.uuid4().hex


class TrainingService:
    def __init__(
        self,
        jobs: TrainingJobStore,
        queue: TrainingQueue,
        now: Callable[[], dt.datetime] = utc_now,
        new_id: Callable[[], str] = new_job_id,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._now = now
        self._new_id = new_id

    async def start(self, owner_id: str) -> TrainingJob:
        running = await self._jobs.unfinished_job(owner_id)
        if running is not None:
            if self._now() - running.create_time < LOST_AFTER:
                return running
            await self._jobs.save_job(
                self._finished(running, JobStatus.FAILED, "the training worker did not finish")
            )
        job = TrainingJob(self._new_id(), owner_id, JobStatus.QUEUED, self._now())
        await self._jobs.create_job(job)
        try:
            await self._queue.enqueue_training(job.id, owner_id)
        except Unavailable:
            await self._jobs.save_job(
                self._finished(job, JobStatus.FAILED, "the training queue is unavailable")
            )
            raise
        return job

    async def get(self, owner_id: str, job_id: str) -> TrainingJob:
        job = await self._jobs.job(owner_id, job_id) if job_id else None
        if job is None:
            raise NotFound("training job not found")
        return job

    def _finished(self, job: TrainingJob, status: JobStatus, error: str) -> TrainingJob:
        return dataclasses.replace(job, status=status, error=error, finish_time=self._now())
