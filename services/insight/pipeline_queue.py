"""RqPipelineQueue: puts an insight's processing job on the RQ queue the workers consume."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redis.exceptions import RedisError

from services.common.errors import Unavailable
from services.common.pipeline_jobs import enqueue_process_insight, pipeline_queue
from services.common.redis_client import sync_redis
from services.common.request_context import current_request_id


class RqPipelineQueue:
    def __init__(self, redis_url: str, retry_intervals: Sequence[int]) -> None:
        self._queue = pipeline_queue(sync_redis(redis_url))
        self._retry_intervals = tuple(retry_intervals)

    async def enqueue_processing(self, insight_id: str, version: int) -> None:
        try:
            await asyncio.to_thread(
                enqueue_process_insight,
                self._queue,
                insight_id,
                version,
                current_request_id(),
                self._retry_intervals,
            )
        except RedisError as exc:
            raise Unavailable("pipeline queue is unavailable") from exc
