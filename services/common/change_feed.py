"""A per-person counter of changes to their insights, for caches elsewhere to key on.

The insight service bumps it on every write (create, edit, delete, enrichment); the assistant
puts the current value into its cache keys, so a change makes every cached answer for that person
unreachable at once without anyone having to find and delete them. Losing the counter (Redis
flushed) only costs cache misses.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _key(owner_id: str) -> str:
    return f"events:insights-changed:{owner_id}"


class InsightChangeFeed:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def bump(self, owner_id: str) -> None:
        try:
            await self._redis.incr(_key(owner_id))
        except RedisError:
            # The write itself succeeded; a stale cache entry expires on its own TTL.
            log.warning("change feed unavailable", extra={"owner_id": owner_id})

    async def version(self, owner_id: str) -> int:
        raw = await self._redis.get(_key(owner_id))
        return int(raw) if raw else 0
