"""Each person's authenticated calls per window, counted in this process and summed in Redis.

Counting every call in Redis cost a round trip per call (the largest share of a short read's
CPU after grpc itself). Here a call is admitted against what this process knows — the person's
count in Redis at the last flush plus the calls it admitted since — and a background flush adds
those calls to Redis in one script for every person every FLUSH_INTERVAL_SECONDS, learning the
sum over all processes in return.

The window is Redis's: it starts with the first call Redis counts and ends when its key
expires, as before. Within one process the limit is exact; across processes a person can
exceed it by what the other processes admitted since their last flush (at most one interval's
worth of calls). If Redis cannot be reached, calls keep being counted here and are added at
the next flush that succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.05
KEY_PREFIX = "ratelimit:user:"

# KEYS: one counter per person; ARGV[1]: the window in seconds, ARGV[2..]: calls to add per key.
# Returns {count, milliseconds until the window ends} per key. A key without an expiry (never
# left by this code, but possible after a crash between INCRBY and EXPIRE) gets one.
ADD_CALLS_SCRIPT = """
local window = tonumber(ARGV[1])
local answers = {}
for i, key in ipairs(KEYS) do
  local calls = redis.call('INCRBY', key, ARGV[i + 1])
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('EXPIRE', key, window)
    left = window * 1000
  end
  answers[#answers + 1] = calls
  answers[#answers + 1] = left
end
return answers
"""

# Adds calls to keys; answers (count, ms left in the window) per key, in order.
AddCalls = Callable[[list[str], list[int]], Awaitable[list[tuple[int, int]]]]


@dataclass(frozen=True)
class UserRateLimit:
    """At most `calls` authenticated calls per person per `window_seconds`; 0 calls = no limit."""

    calls: int
    window_seconds: int


@dataclass
class _Person:
    counted: int = 0  # the person's count in Redis at the last flush (all processes)
    flushing: int = 0  # calls on their way to Redis: not in `counted` until the answer comes
    unflushed: int = 0  # calls admitted here since
    window_ends: float | None = None  # when Redis's window ends (time.time()); None: unknown


class PersonCallCounter:
    def __init__(
        self,
        limit: UserRateLimit,
        add_calls: AddCalls,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limit = limit
        self._add_calls = add_calls
        self._clock = clock
        self._people: dict[str, _Person] = {}
        self._forgotten_at = clock()

    @property
    def enabled(self) -> bool:
        return self._limit.calls > 0

    def admit(self, user_id: str) -> int:
        """Counts one call; 0 when admitted, else the seconds until the person may call again."""
        if not self.enabled:
            return 0
        now = self._clock()
        person = self._people.get(user_id)
        if person is None:
            person = self._people[user_id] = _Person()
        elif person.window_ends is not None and now >= person.window_ends:
            person.counted, person.window_ends = 0, None  # Redis's key expired with the window
        if person.counted + person.flushing + person.unflushed >= self._limit.calls:
            return self._seconds_left(person, now)
        person.unflushed += 1
        return 0

    def observe(self, user_id: str, count: int, ms_left: int) -> int:
        """A call Redis counted by another path (the per-call check used while this process
        cannot trust its revocation mirror): learns the person's count, which includes that
        call, and answers as `admit` does — 0, or the seconds until the person may call again."""
        if not self.enabled:
            return 0
        now = self._clock()
        person = self._people.setdefault(user_id, _Person())
        self._learn(person, count, ms_left, now)
        return self._seconds_left(person, now) if count > self._limit.calls else 0

    def _seconds_left(self, person: _Person, now: float) -> int:
        if person.window_ends is None:
            return self._limit.window_seconds
        return max(1, math.ceil(person.window_ends - now))

    @staticmethod
    def _learn(person: _Person, count: int, ms_left: int, now: float) -> None:
        person.counted = count
        person.window_ends = now + ms_left / 1000

    async def flush(self) -> None:
        """Adds every call admitted since the last flush to Redis; on failure they stay
        counted here and go with the next flush."""
        self._forget_ended()
        batch = {user: p.unflushed for user, p in self._people.items() if p.unflushed}
        if not batch:
            return
        # Calls in flight still count against the limit: a call admitted while Redis answers
        # must see them, or a person could get a whole batch more than the limit.
        for user, calls in batch.items():
            self._people[user].unflushed -= calls
            self._people[user].flushing += calls
        try:
            answers = await self._add_calls(
                [KEY_PREFIX + user for user in batch], list(batch.values())
            )
        except BaseException:
            for user, calls in batch.items():
                person = self._people[user]
                person.flushing -= calls
                person.unflushed += calls
            raise
        now = self._clock()
        for user, (count, ms_left) in zip(batch, answers, strict=True):
            person = self._people[user]
            person.flushing -= batch[user]
            self._learn(person, count, ms_left, now)

    def _forget_ended(self) -> None:
        """Drops people whose window ended with nothing left to flush, so memory follows the
        active people, not everyone ever seen. At most once a second: it walks everyone."""
        now = self._clock()
        if now - self._forgotten_at < 1.0:
            return
        self._forgotten_at = now
        ended = [
            user
            for user, p in self._people.items()
            if not p.unflushed
            and not p.flushing
            and (p.window_ends is None or now >= p.window_ends)
        ]
        for user in ended:
            del self._people[user]

    async def run_forever(self, interval: float = FLUSH_INTERVAL_SECONDS) -> None:
        if not self.enabled:
            return
        failing = False
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
            except Exception as exc:  # Redis down: counted here until it is back
                if not failing:
                    log.warning("could not add calls to the rate-limit counters: %s", exc)
                failing = True
            else:
                failing = False
