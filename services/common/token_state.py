"""Server-side token state in Redis: revoked access tokens and refresh-token families.

A refresh family is every refresh token descended from one login. Only the newest token of a
family works; presenting an older one (a replay of a stolen token) revokes the whole family.
Keys expire with the tokens they describe, so the state never grows without bound. Beside them,
each person's call counter for the per-person rate limit (one fixed window, expiring with it): the
revocation check and the count are one Lua script, so an authenticated call costs one round trip.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import Enum

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.config import Settings
from services.common.errors import Unavailable
from services.common.redis_client import pipelined_redis
from services.common.redis_pipelined import PipelinedRedis

_PREFIX = "auth"

# Atomically swaps the family's current token hash: returns 1 on success, 0 on a stale token
# (reuse: the family is revoked), -1 when the family is unknown or revoked.
_ROTATE = """
local family = KEYS[1]
local revoked = KEYS[2]
if redis.call('EXISTS', revoked) == 1 then return -1 end
local current = redis.call('HGET', family, 'current')
if not current then return -1 end
if current ~= ARGV[1] then
  redis.call('SET', revoked, '1', 'EX', ARGV[3])
  redis.call('DEL', family)
  return 0
end
redis.call('HSET', family, 'current', ARGV[2])
redis.call('EXPIRE', family, ARGV[3])
return 1
"""


# The per-call check of an authenticated person, in one round trip: is the access token or its
# session revoked, and (when ARGV[2] > 0) one more call in the person's fixed-window counter.
# Returns {revoked (0|1), seconds until the window ends when over the limit, else 0}.
_ADMIT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {1, 0} end
local limit = tonumber(ARGV[2])
if limit <= 0 then return {0, 0} end
local calls = redis.call('INCR', KEYS[3])
if calls == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
if calls <= limit then return {0, 0} end
local wait = redis.call('TTL', KEYS[3])
if wait < 1 then wait = tonumber(ARGV[1]) end
return {0, wait}
"""


@dataclass(frozen=True)
class UserRateLimit:
    """At most `calls` authenticated calls per person per `window_seconds`; 0 calls = no limit."""

    calls: int
    window_seconds: int


@dataclass(frozen=True)
class Admission:
    revoked: bool
    retry_after_seconds: int = 0  # > 0: over the person's rate limit


class RotationOutcome(Enum):
    ROTATED = "rotated"
    REUSED = "reused"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RefreshFamily:
    family_id: str
    user_id: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_refresh_token(token: str) -> tuple[str, str] | None:
    """A refresh token is `<family id>.<secret>`; returns both parts or None when malformed."""
    family_id, dot, secret = token.partition(".")
    if not dot or not family_id or not secret or len(token) > 200:
        return None
    return family_id, secret


class TokenState:
    def __init__(
        self,
        client: aioredis.Redis,
        refresh_ttl_seconds: int,
        rate_limit: UserRateLimit = UserRateLimit(0, 60),
        pipelined: PipelinedRedis | None = None,
    ) -> None:
        self._redis = client
        self._refresh_ttl = refresh_ttl_seconds
        self._rate_limit = rate_limit
        self._rotate = client.register_script(_ROTATE)
        self._admit = client.register_script(_ADMIT)
        # The admission script runs on every authenticated call: a pipelined connection makes it
        # cheap (services/common/redis_pipelined.py). Same Redis, same answer, same errors.
        self._pipelined = pipelined

    @classmethod
    def from_settings(cls, client: aioredis.Redis, settings: Settings) -> TokenState:
        limit = UserRateLimit(settings.user_rate_limit, settings.user_rate_window_seconds)
        return cls(
            client,
            settings.refresh_token_ttl_seconds,
            limit,
            pipelined_redis(settings.redis_url),
        )

    @staticmethod
    def _family_key(family_id: str) -> str:
        return f"{_PREFIX}:family:{family_id}"

    @staticmethod
    def _revoked_family_key(family_id: str) -> str:
        return f"{_PREFIX}:revoked-family:{family_id}"

    @staticmethod
    def _revoked_token_key(token_id: str) -> str:
        return f"{_PREFIX}:revoked-token:{token_id}"

    async def admit(self, token_id: str, family_id: str, user_id: str) -> Admission:
        """Revocation check and per-person rate count of one call, in one Redis round trip."""
        keys = [
            self._revoked_token_key(token_id),
            self._revoked_family_key(family_id),
            f"ratelimit:user:{user_id}",
        ]
        args = [str(self._rate_limit.window_seconds), str(self._rate_limit.calls)]
        try:
            if self._pipelined is not None:
                revoked, wait = await self._pipelined.eval_ints(_ADMIT, keys, args)
            else:
                revoked, wait = await self._admit(keys=keys, args=args)
        except (RedisError, OSError) as exc:  # ConnectionError is an OSError
            raise Unavailable("token revocation list is unavailable") from exc
        return Admission(revoked=bool(int(revoked)), retry_after_seconds=int(wait))

    async def close(self) -> None:
        if self._pipelined is not None:
            await self._pipelined.close()

    async def start_family(self, family_id: str, user_id: str, refresh_token: str) -> None:
        try:
            await self._redis.hset(
                self._family_key(family_id),
                mapping={"user": user_id, "current": _digest(refresh_token)},
            )
            await self._redis.expire(self._family_key(family_id), self._refresh_ttl)
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc

    async def family_owner(self, family_id: str) -> str | None:
        try:
            user = await self._redis.hget(self._family_key(family_id), "user")
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc
        return user.decode() if isinstance(user, bytes) else user

    async def rotate(self, family_id: str, presented: str, replacement: str) -> RotationOutcome:
        try:
            result = await self._rotate(
                keys=[self._family_key(family_id), self._revoked_family_key(family_id)],
                args=[_digest(presented), _digest(replacement), self._refresh_ttl],
            )
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc
        return {1: RotationOutcome.ROTATED, 0: RotationOutcome.REUSED}.get(
            int(result), RotationOutcome.UNKNOWN
        )

    async def revoke(self, token_id: str, token_expires_at: int, family_ids: list[str]) -> None:
        token_ttl = max(1, token_expires_at - int(time.time()))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._revoked_token_key(token_id), "1", ex=token_ttl)
                for family_id in family_ids:
                    pipe.set(self._revoked_family_key(family_id), "1", ex=self._refresh_ttl)
                    pipe.delete(self._family_key(family_id))
                await pipe.execute()
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc
