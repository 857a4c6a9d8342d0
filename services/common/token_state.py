"""Server-side token state in Redis: revoked access tokens and refresh-token families.

A refresh family is every refresh token descended from one login. Only the newest token of a
family works; presenting an older one (a replay of a stolen token) revokes the whole family.
Keys expire with the tokens they describe, so the state never grows without bound. Every
revocation is also published to the processes' revocation mirrors, and the revoker waits for
them to acknowledge (services/common/revocation_mirror.py): calls are checked against those.
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
from services.common.revocation_mirror import (
    CHANNEL,
    FAMILY_KEY_PREFIX,
    TOKEN_KEY_PREFIX,
    Revocation,
    wait_for_acknowledgements,
)

_PREFIX = "auth"

# Atomically swaps the family's current token hash: answers {1} on success, {-1} when the
# family is unknown or revoked, and on a stale token (reuse) revokes the family, publishes
# ARGV[4] to the revocation channel ARGV[5] and answers {0, processes that received it}.
_ROTATE = """
local family = KEYS[1]
local revoked = KEYS[2]
if redis.call('EXISTS', revoked) == 1 then return {-1} end
local current = redis.call('HGET', family, 'current')
if not current then return {-1} end
if current ~= ARGV[1] then
  redis.call('SET', revoked, '1', 'EX', ARGV[3])
  redis.call('DEL', family)
  return {0, redis.call('PUBLISH', ARGV[5], ARGV[4])}
end
redis.call('HSET', family, 'current', ARGV[2])
redis.call('EXPIRE', family, ARGV[3])
return {1}
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
    def __init__(self, client: aioredis.Redis, refresh_ttl_seconds: int) -> None:
        self._redis = client
        self._refresh_ttl = refresh_ttl_seconds
        self._rotate = client.register_script(_ROTATE)

    @classmethod
    def from_settings(cls, client: aioredis.Redis, settings: Settings) -> TokenState:
        return cls(client, settings.refresh_token_ttl_seconds)

    @staticmethod
    def _family_key(family_id: str) -> str:
        return f"{_PREFIX}:family:{family_id}"

    @staticmethod
    def _revoked_family_key(family_id: str) -> str:
        return FAMILY_KEY_PREFIX + family_id

    @staticmethod
    def _revoked_token_key(token_id: str) -> str:
        return TOKEN_KEY_PREFIX + token_id

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
        revocation = Revocation(families={family_id: time.time() + self._refresh_ttl})
        try:
            result = await self._rotate(
                keys=[self._family_key(family_id), self._revoked_family_key(family_id)],
                args=[
                    _digest(presented),
                    _digest(replacement),
                    self._refresh_ttl,
                    revocation.encode(),
                    CHANNEL,
                ],
            )
            if int(result[0]) == 0:
                await wait_for_acknowledgements(self._redis, revocation, int(result[1]))
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc
        return {1: RotationOutcome.ROTATED, 0: RotationOutcome.REUSED}.get(
            int(result[0]), RotationOutcome.UNKNOWN
        )

    async def revoke(self, token_id: str, token_expires_at: int, family_ids: list[str]) -> None:
        """Revokes the token and the families at once; returns when every process's mirror
        has them (or after the acknowledgement timeout)."""
        now = time.time()
        token_ttl = max(1, token_expires_at - int(now))
        revocation = Revocation(
            tokens={token_id: now + token_ttl},
            families={family_id: now + self._refresh_ttl for family_id in family_ids},
        )
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._revoked_token_key(token_id), "1", ex=token_ttl)
                for family_id in family_ids:
                    pipe.set(self._revoked_family_key(family_id), "1", ex=self._refresh_ttl)
                    pipe.delete(self._family_key(family_id))
                pipe.publish(CHANNEL, revocation.encode())
                results = await pipe.execute()
            await wait_for_acknowledgements(self._redis, revocation, int(results[-1]))
        except RedisError as exc:
            raise Unavailable("session store is unavailable") from exc
