"""The `training` RQ queue: its name, and the one way a training job is queued (as
services/common/pipeline_jobs.py does for the pipeline). The API server queues; the trainer
process (python -m services.assistant.trainer) consumes."""

from __future__ import annotations

import asyncio

import redis
from redis.exceptions import RedisError
from rq import Queue, Retry

from services.common.errors import Unavailable
from services.common.redis_client import sync_redis
from services.common.request_context import current_request_id, job_meta

TRAINING_QUEUE = "training"
# Referenced by name so the API server never imports the trainer's code.
TRAIN_MODELS_JOB = "services.assistant.jobs.train_models"
RETRY_INTERVALS_SECONDS = [30, 120]
JOB_TIMEOUT_SECONDS = 30 * 60


def training_queue(connection: redis.Redis) -> Queue:
    return Queue(TRAINING_QUEUE, connection=connection)


def training_job_id(job_id: str) -> str:
    return f"train-{job_id}"


def enqueue_train_models(queue: Queue, job_id: str, owner_id: str, request_id: str) -> None:
    queue.enqueue(
        TRAIN_MODELS_JOB,
        job_id,
        owner_id,
        job_id=training_job_id(job_id),
        retry=Retry(max=len(RETRY_INTERVALS_SECONDS), interval=RETRY_INTERVALS_SECONDS),
        job_timeout=JOB_TIMEOUT_SECONDS,
        meta=job_meta(request_id),
        failure_ttl=7 * 24 * 3600,
        result_ttl=3600,
    )


class RqTrainingQueue:
    def __init__(self, redis_url: str) -> None:
        self._queue = training_queue(sync_redis(redis_url))

    async def enqueue_training(self, job_id: str, owner_id: str) -> None:
        try:
            await asyncio.to_thread(
                enqueue_train_models, self._queue, job_id, owner_id, current_request_id()
            )
        except RedisError as exc:
            raise Unavailable("the training queue is unavailable") from exc
