"""RedisTimeoutTally: how often each insight version was deferred on a timeout, in Redis (the
worker's own connection), so every worker process and restart counts towards the same limit."""

from __future__ import annotations

from typing import Final

import redis

# Long enough to outlive any outage worth waiting out; the key goes with it.
TALLY_TTL_SECONDS: Final = 7 * 24 * 3600


class RedisTimeoutTally:
    def __init__(self, client: redis.Redis, ttl_seconds: int = TALLY_TTL_SECONDS) -> None:
        self._redis = client
        self._ttl = ttl_seconds

    @staticmethod
    def key(insight_id: str, version: int) -> str:
        return f"pipeline:timeouts:{insight_id}:{version}"

    def add(self, insight_id: str, version: int) -> int:
        key = self.key(insight_id, version)
        with self._redis.pipeline(transaction=True) as batch:
            batch.incr(key)
            batch.expire(key, self._ttl)
            count, _ = batch.execute()
        return int(count)
