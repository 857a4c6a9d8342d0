"""Whether a person's authenticated call may proceed: its token and session not revoked, and the
person within their rate limit.

Both are answered in this process on the hot path — revocations from the process's mirror
(services/common/revocation_mirror.py), calls from its counter (services/common/call_counter.py)
— so a call costs no Redis round trip. While the mirror is not in sync (starting, Redis down),
each call is checked in Redis by one script, as before: a revoked token is never let through
for want of a mirror, and Redis being down is a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.call_counter import (
    ADD_CALLS_SCRIPT,
    FLUSH_INTERVAL_SECONDS,
    KEY_PREFIX,
    PersonCallCounter,
    UserRateLimit,
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

# The per-call check in Redis, used while the mirror is not in sync: is the token or its session
# revoked, and (when ARGV[2] > 0) one more call on the person's counter, which the counter's
# flushes share. Returns {revoked (0|1), the person's calls, ms left in the window}.
_ADMIT_SCRIPT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {1, 0, 0} end
if tonumber(ARGV[2]) <= 0 then return {0, 0, 0} end
local calls = redis.call('INCR', KEYS[3])
local left = redis.call('PTTL', KEYS[3])
if left < 0 then
  redis.call('EXPIRE', KEYS[3], ARGV[1])
  left = tonumber(ARGV[1]) * 1000
end
return {0, calls, left}
"""


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
        flush_interval: float = FLUSH_INTERVAL_SECONDS,
    ) -> None:
        self._client = client
        self._flush_interval = flush_interval
        self._mirror = mirror
        self._rate_limit = rate_limit
        # Scripts go over the pipelined connection where there is one: same Redis, same
        # answers and errors, less CPU (services/common/redis_pipelined.py).
        self._pipelined = pipelined
        self._counter = PersonCallCounter(rate_limit, self._add_calls)
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
        """Starts following revocations and flushing call counts (needs a running loop)."""
        if self._mirror is not None:
            self._tasks.append(asyncio.create_task(self._mirror.run_forever()))
        self._tasks.append(asyncio.create_task(self._counter.run_forever(self._flush_interval)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        with contextlib.suppress(RedisError, OSError):
            await self.flush_counts()  # calls counted here still count after a restart
        if self._mirror is not None:
            await self._mirror.close()
        if self._pipelined is not None:
            await self._pipelined.close()
        await self._client.aclose()

    async def flush_counts(self) -> None:
        """Adds the calls counted here to Redis now (the background flush does it every
        FLUSH_INTERVAL_SECONDS) and learns each person's count over all processes."""
        await self._counter.flush()

    async def admit(self, token_id: str, family_id: str, user_id: str) -> Admission:
        revoked = self._mirror.is_revoked(token_id, family_id) if self._mirror else None
        if revoked is None:
            return await self._admit_in_redis(token_id, family_id, user_id)
        if revoked:
            return Admission(revoked=True)
        return Admission(revoked=False, retry_after_seconds=self._counter.admit(user_id))

    async def _admit_in_redis(self, token_id: str, family_id: str, user_id: str) -> Admission:
        keys = [TOKEN_KEY_PREFIX + token_id, FAMILY_KEY_PREFIX + family_id, KEY_PREFIX + user_id]
        args = [str(self._rate_limit.window_seconds), str(self._rate_limit.calls)]
        try:
            revoked, calls, ms_left = await self._eval_ints(_ADMIT_SCRIPT, keys, args)
        except (RedisError, OSError) as exc:  # ConnectionError is an OSError
            raise Unavailable("token revocation list is unavailable") from exc
        if revoked:
            return Admission(revoked=True)
        wait = self._counter.observe(user_id, calls, ms_left)
        return Admission(revoked=False, retry_after_seconds=wait)

    async def _add_calls(self, keys: list[str], calls: list[int]) -> list[tuple[int, int]]:
        args = [str(self._rate_limit.window_seconds), *(str(n) for n in calls)]
        answer = await self._eval_ints(ADD_CALLS_SCRIPT, keys, args)
        return list(zip(answer[0::2], answer[1::2], strict=True))

    async def _eval_ints(self, script: str, keys: list[str], args: list[str]) -> list[int]:
        if self._pipelined is not None:
            return await self._pipelined.eval_ints(script, keys, args)
        answer = await self._client.eval(script, len(keys), *keys, *args)
        return [int(value) for value in answer]
