"""Each person's authenticated calls per window, granted by Redis in small batches.

Counting every call in Redis cost a round trip per call (the largest share of a short read's
CPU after grpc itself). Here a process asks Redis for a *grant* — a number of calls the person
may still make in this window — and admits calls from it locally until it is used up; then it
asks again. Redis adds every grant to the person's counter and never grants beyond the limit,
so the limit holds exactly across any number of processes: a person never gets more calls than
the limit, however their calls are spread.

What this trades: a grant a process has not used up is not available to the others, so a person
whose calls move between processes can be refused a few calls before the limit (at most the
unused part of each other process's last grant). Grants are sized to keep that small: a
person's first grant in a process is one call; each next one is about `HOLD_SECONDS` worth of
their calls at the pace they used the last (at most twice the last, at most `MAX_GRANT`), so a
process holds about a second of a person's calls and a service they call rarely holds one; and
no grant is more than 1/`GRANT_SHARE` of what is left, down to one call at a time near the
limit.

The window is Redis's: it starts with the first grant and ends when the counter's key expires.
A person found over the limit is refused here, without Redis, until the window ends. When Redis
cannot be reached and a grant is needed, the call fails (the caller's error, a 503); calls
already granted go on being admitted.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.common.shielding import shielded

KEY_PREFIX = "ratelimit:user:"
MAX_GRANT = 50  # calls a process may hold for one person at once
GRANT_SHARE = 8  # a grant is at most 1/GRANT_SHARE of what is left (but at least one call)
HOLD_SECONDS = 1.0  # a grant is about this long's worth of the person's calls here

# KEYS[1]: the person's counter; ARGV: limit, window in seconds, calls wanted, share.
# Returns {calls granted (0: over the limit), ms until the window ends}. The key (it exists once
# anything was granted) always leaves with an expiry, so a window always ends — even for a
# counter some crash or hand left without one.
GRANT_SCRIPT = """
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local granted = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[3]), math.floor((limit - granted) / tonumber(ARGV[4])))
if granted < limit then
  grant = math.max(1, grant)
  redis.call('INCRBY', KEYS[1], grant)
else
  grant = 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], window)
  left = window * 1000
end
return {grant, left}
"""

# Asks Redis for up to `wanted` calls on one counter key; answers (calls granted, ms left).
Grant = Callable[[str, int], Awaitable[tuple[int, int]]]


@dataclass(frozen=True)
class UserRateLimit:
    """At most `calls` authenticated calls per person per `window_seconds`; 0 calls = no limit."""

    calls: int
    window_seconds: int


def grant_arguments(limit: UserRateLimit, wanted: int) -> list[str]:
    """GRANT_SCRIPT's ARGV."""
    return [str(limit.calls), str(limit.window_seconds), str(wanted), str(GRANT_SHARE)]


@dataclass
class _Person:
    allowance: int = 0  # calls granted to this process and not used yet
    exhausted: bool = False  # Redis granted nothing: over the limit until the window ends
    window_ends: float = 0.0  # when Redis's window ends (by this process's clock)
    last_grant: int = 0  # calls in the last grant, and when it came: the pace of the next
    granted_at: float = 0.0
    # One grant request at a time per person: concurrent calls wait for it, not ask again.
    asking: asyncio.Lock = field(default_factory=asyncio.Lock)


class PersonCallCounter:
    def __init__(
        self,
        limit: UserRateLimit,
        grant: Grant,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limit = limit
        self._grant = grant
        self._clock = clock
        self._people: dict[str, _Person] = {}
        self._forgotten_at = clock()

    @property
    def enabled(self) -> bool:
        return self._limit.calls > 0

    async def admit(self, user_id: str) -> int:
        """Counts one call; 0 when admitted, else the seconds until the person may call again.
        Raises what the grant function raises when a grant is needed and Redis cannot give it."""
        if not self.enabled:
            return 0
        self._forget_ended()
        while True:
            person = self._person(user_id)
            if person.allowance > 0:
                person.allowance -= 1
                return 0
            if person.exhausted:
                return self._seconds_left(person)
            if person.asking.locked():
                async with person.asking:  # another call is asking: use its answer
                    continue
            async with person.asking:
                return await self._ask(user_id, person)

    def _person(self, user_id: str) -> _Person:
        person = self._people.get(user_id)
        if person is None:
            person = self._people[user_id] = _Person()
        elif self._clock() >= person.window_ends:
            # Redis's key expired with the window: what was granted or refused in it is gone.
            person.allowance, person.exhausted = 0, False
        return person

    async def _ask(self, user_id: str, person: _Person) -> int:
        # A caller that goes away (its deadline passed) while Redis is granting leaves a grant
        # Redis has counted: it is kept whole for the person's next calls, not stranded.
        granted, ms_left = await shielded(
            self._grant(KEY_PREFIX + user_id, self._wanted(person)),
            lambda request: self._keep_unused(person, request),
        )
        self._take(person, granted, ms_left)
        if granted <= 0:
            return self._seconds_left(person)
        person.allowance -= 1  # this call is the first of the grant
        return 0

    def _take(self, person: _Person, granted: int, ms_left: int) -> None:
        now = self._clock()
        person.window_ends = now + ms_left / 1000
        if granted <= 0:
            person.exhausted = True
            return
        person.allowance += granted
        person.last_grant, person.granted_at = granted, now

    def _keep_unused(self, person: _Person, request: asyncio.Future[tuple[int, int]]) -> None:
        if not request.cancelled() and request.exception() is None:
            self._take(person, *request.result())

    def _wanted(self, person: _Person) -> int:
        """About HOLD_SECONDS of the person's calls at the pace the last grant was used."""
        if person.last_grant == 0:
            return 1
        elapsed = max(self._clock() - person.granted_at, 1e-6)
        at_pace = int(person.last_grant / elapsed * HOLD_SECONDS)
        return max(1, min(at_pace, 2 * person.last_grant, MAX_GRANT))

    def _seconds_left(self, person: _Person) -> int:
        return max(1, math.ceil(person.window_ends - self._clock()))

    def _forget_ended(self) -> None:
        """Drops people whose window ended, so memory follows the active people, not everyone
        ever seen. At most once a second: it walks everyone."""
        now = self._clock()
        if now - self._forgotten_at < 1.0:
            return
        self._forgotten_at = now
        ended = [
            user
            for user, person in self._people.items()
            if now >= person.window_ends and not person.asking.locked()
        ]
        for user in ended:
            del self._people[user]
