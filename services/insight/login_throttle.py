"""Backoff on repeated failed logins, per account: after MAX_FAILURES within the window, logins
for that email are refused (RESOURCE_EXHAUSTED → 429) until the window passes — whether or not the
email exists, so the refusal reveals nothing. A successful login clears the count."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import ResourceExhausted, Unavailable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(email: str) -> str:
    # Hashed: the key space of Redis never lists people's email addresses.
    return "auth:login-failures:" + hashlib.sha256(email.encode()).hexdigest()


class LoginThrottle:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def check(self, email: str) -> None:
        try:
            failures = await self._redis.get(_key(email))
            wait = await self._redis.ttl(_key(email)) if failures else 0
        except RedisError as exc:
            raise Unavailable("login is temporarily unavailable") from exc
        if failures and int(failures) >= MAX_FAILURES:
            raise ResourceExhausted(
                f"too many failed logins for this account; try again in {max(wait, 1)} seconds",
                retry_after_seconds=max(wait, 1),
            )

    async def failed(self, email: str) -> None:
        try:
            # The window starts at the first failure (EXPIRE ... NX would need Redis 7).
            if await self._redis.incr(_key(email)) == 1:
                await self._redis.expire(_key(email), WINDOW_SECONDS)
        except RedisError as exc:
            raise Unavailable("login is temporarily unavailable") from exc

    async def succeeded(self, email: str) -> None:
        try:
            await self._redis.delete(_key(email))
        except RedisError as exc:
            raise Unavailable("login is temporarily unavailable") from exc
