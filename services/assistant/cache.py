"""Redis adapters: the response cache and the owner's insight change counter.

Both are best effort. A Redis failure makes a cache read a miss and a write a no-op, and an
unreadable change counter turns caching off for that call; suggestions are then computed
afresh rather than failing or being served stale.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.change_feed import InsightChangeFeed

log = logging.getLogger(__name__)


class RedisResponseCache:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def get(self, key: str) -> str | None:
        try:
            raw = await self._redis.get(key)
        except RedisError:
            log.warning("cache unavailable")
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        try:
            await self._redis.set(key, value, ex=ttl_seconds)
        except RedisError:
            log.warning("cache unavailable")


class FeedChangeVersions:
    def __init__(self, feed: InsightChangeFeed) -> None:
        self._feed = feed

    async def insights_version(self, owner_id: str) -> int | None:
        try:
            return await self._feed.version(owner_id)
        except RedisError:
            log.warning("change feed unavailable; not caching")
            return None
