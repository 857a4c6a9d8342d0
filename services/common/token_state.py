"""Server-side token state in Redis: revoked access tokens and refresh-token families.

A refresh family is every refresh token descended from one login. Only the newest token of a
family works; presenting an older one (a replay of a stolen token) revokes the whole family.
Keys expire with the tokens they describe, so the state never grows without bound.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import Enum

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import Unavailable
from services.common.redis_exists import RedisExists

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
        exists: RedisExists | None = None,
    ) -> None:
        self._redis = client
        self._refresh_ttl = refresh_ttl_seconds
        self._rotate = client.register_script(_ROTATE)
        # The revocation check runs on every authenticated call: a pipelined connection makes
        # it cheap (services/common/redis_exists.py). Same Redis, same answer, same errors.
        self._exists = exists

    @staticmethod
    def _family_key(family_id: str) -> str:
        return f"{_PREFIX}:family:{family_id}"

    @staticmethod
    def _revoked_family_key(family_id: str) -> str:
        return f"{_PREFIX}:revoked-family:{family_id}"

    @staticmethod
    def _revoked_token_key(token_id: str) -> str:
        return f"{_PREFIX}:revoked-token:{token_id}"

    async def is_revoked(self, token_id: str, family_id: str) -> bool:
        keys = (self._revoked_token_key(token_id), self._revoked_family_key(family_id))
        try:
            if self._exists is not None:
                hits = await self._exists.count(*keys)
            else:
                hits = await self._redis.exists(*keys)
        except (RedisError, OSError) as exc:  # ConnectionError is an OSError
            raise Unavailable("token revocation list is unavailable") from exc
        return int(hits) > 0

    async def close(self) -> None:
        if self._exists is not None:
            await self._exists.close()

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
