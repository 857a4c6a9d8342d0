"""RqPipelineQueue: puts an insight's processing job on the RQ queue the workers consume."""

from __future__ import annotations

import asyncio

from redis.exceptions import RedisError
from rq import Queue, Retry

from services.common.errors import Unavailable
from services.common.redis_client import sync_redis
from services.common.request_context import current_request_id

PIPELINE_QUEUE = "pipeline"
# Referenced by name so this service never imports worker code.
PROCESS_INSIGHT_JOB = "services.worker.jobs.process_insight"


class RqPipelineQueue:
    def __init__(self, redis_url: str) -> None:
        self._queue = Queue(PIPELINE_QUEUE, connection=sync_redis(redis_url))

    async def enqueue_processing(self, insight_id: str, version: int) -> None:
        request_id = current_request_id()
        try:
            await asyncio.to_thread(
                self._queue.enqueue,
                PROCESS_INSIGHT_JOB,
                insight_id,
                version,
                request_id,
                # The id names the version; the job itself is idempotent, so a re-queue is harmless.
                job_id=f"insight-{insight_id}-v{version}",
                retry=Retry(max=3, interval=[2, 10, 30]),
                failure_ttl=7 * 24 * 3600,
            )
        except RedisError as exc:
            raise Unavailable("pipeline queue is unavailable") from exc
