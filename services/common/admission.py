"""Whether a person's authenticated call may proceed: its token and session not revoked, and the
person within their rate limit.

Both are answered in this process on the hot path — revocations from the process's mirror
(services/common/revocation_mirror.py), calls from grants Redis made to this process
(services/common/call_counter.py) — so a call costs no Redis round trip, except the one in every
few dozen that asks for the next grant. While the mirror is not in sync (starting, Redis down),
each call's token is checked in Redis: a revoked token is never let through for want of a
mirror, and Redis being down is a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.call_counter import (
    GRANT_SCRIPT,
    PersonCallCounter,
    UserRateLimit,
    grant_arguments,
)
from services.common.config import Settings
from services.common.errors import Unavailable
from services.common.redis_client import async_redis, pipelined_redis, subscriber_redis
from services.common.redis_pipelined import PipelinedRedis
from services.common.revocation_mirror import (
    FAMILY_KEY_PREFIX,
    TOKEN_KEY_PREFIX,
    RevocationMirror,
)

# The per-call check in Redis while the mirror is not in sync: is the token or its session revoked.
# (An array of one: the pipelined connection reads arrays of integers.)
_REVOKED_SCRIPT = "return {redis.call('EXISTS', KEYS[1], KEYS[2])}"


# Access tokens are checked against their `exp` by this process's clock and issued by another's.
CLOCK_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class Admission:
    revoked: bool
    retry_after_seconds: int = 0  # > 0: over the person's rate limit


class CallAdmission:
    def __init__(
        self,
        client: aioredis.Redis,
        mirror: RevocationMirror | None,
        rate_limit: UserRateLimit,
        pipelined: PipelinedRedis | None = None,
    ) -> None:
        self._client = client
        self._mirror = mirror
        self._rate_limit = rate_limit
        # Scripts go over the pipelined connection where there is one: same Redis, same
        # answers and errors, less CPU (services/common/redis_pipelined.py).
        self._pipelined = pipelined
        self._counter = PersonCallCounter(rate_limit, self._grant)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> CallAdmission:
        return cls(
            async_redis(settings.redis_url),
            RevocationMirror(
                subscriber_redis(settings.redis_url),
                session_horizon_seconds=settings.access_token_ttl_seconds + CLOCK_MARGIN_SECONDS,
            ),
            UserRateLimit(settings.user_rate_limit, settings.user_rate_window_seconds),
            pipelined_redis(settings.redis_url),
        )

    def start(self) -> None:
        """Starts following revocations (needs a running loop)."""
        if self._mirror is not None:
            self._tasks.append(asyncio.create_task(self._mirror.run_forever()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._mirror is not None:
            await self._mirror.close()
        if self._pipelined is not None:
            await self._pipelined.close()
        await self._client.aclose()

    async def admit(self, token_id: str, family_id: str, user_id: str) -> Admission:
        revoked = self._mirror.is_revoked(token_id, family_id) if self._mirror else None
        if revoked is None:
            revoked = await self._revoked_in_redis(token_id, family_id)
        if revoked:
            return Admission(revoked=True)
        return Admission(revoked=False, retry_after_seconds=await self._counter.admit(user_id))

    async def _revoked_in_redis(self, token_id: str, family_id: str) -> bool:
        keys = [TOKEN_KEY_PREFIX + token_id, FAMILY_KEY_PREFIX + family_id]
        (found,) = await self._eval_ints(_REVOKED_SCRIPT, keys, [], "token revocation list")
        return found > 0

    async def _grant(self, key: str, wanted: int) -> tuple[int, int]:
        args = grant_arguments(self._rate_limit, wanted)
        granted, ms_left = await self._eval_ints(GRANT_SCRIPT, [key], args, "rate-limit counters")
        return granted, ms_left

    async def _eval_ints(
        self, script: str, keys: list[str], args: list[str], what: str
    ) -> list[int]:
        """The script's integer answers; Redis unreachable is Unavailable ("<what> is
        unavailable"), the 503 every caller of admission expects."""
        try:
            if self._pipelined is not None:
                return await self._pipelined.eval_ints(script, keys, args)
            answer = await self._client.eval(script, len(keys), *keys, *args)
        except (RedisError, OSError) as exc:  # ConnectionError is an OSError
            raise Unavailable(f"{what} is unavailable") from exc
        return [int(value) for value in answer]
