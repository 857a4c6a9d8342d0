"""PersonCallCounter: calls admitted from grants Redis makes in small batches (here a fake of
GRANT_SCRIPT's rule with a manual clock; tests/integration/test_call_admission.py runs the real
script)."""

from __future__ import annotations

import asyncio

import pytest

from services.common.call_counter import (
    GRANT_SHARE,
    KEY_PREFIX,
    MAX_GRANT,
    PersonCallCounter,
    UserRateLimit,
)


class FakeGrants:
    """Redis's side: calls granted per key, the window starting with the first grant."""

    def __init__(self, clock: list[float], limit: int, window_seconds: int) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window_seconds
        self.granted: dict[str, tuple[int, float]] = {}  # key -> (calls granted, window end)
        self.fail = False
        self.requests = 0
        self.grants: list[tuple[int, int]] = []  # (calls granted, calls left before the grant)

    async def grant(self, key: str, wanted: int) -> tuple[int, int]:
        await asyncio.sleep(0)  # a round trip: other calls run meanwhile
        if self.fail:
            raise ConnectionError("redis is down")
        self.requests += 1
        now = self.clock[0]
        granted, ends = self.granted.get(key, (0, now + self.window))
        if now >= ends:
            granted, ends = 0, now + self.window
        grant = max(1, min(wanted, (self.limit - granted) // GRANT_SHARE))
        grant = grant if granted < self.limit else 0
        self.granted[key] = (granted + grant, ends)
        self.grants.append((grant, self.limit - granted))
        return grant, int((ends - now) * 1000)

    def count(self, user: str) -> int:
        return self.granted.get(KEY_PREFIX + user, (0, 0.0))[0]


def _counter(
    limit: int, window: int = 60, redis: FakeGrants | None = None
) -> tuple[PersonCallCounter, FakeGrants, list[float]]:
    clock = redis.clock if redis else [1000.0]
    redis = redis or FakeGrants(clock, limit, window)
    counter = PersonCallCounter(UserRateLimit(limit, window), redis.grant, lambda: clock[0])
    return counter, redis, clock


async def _admitted(counter: PersonCallCounter, user: str, calls: int) -> list[int]:
    return [await counter.admit(user) for _ in range(calls)]


async def test_admits_up_to_the_limit_then_says_how_long_to_wait() -> None:
    counter, redis, clock = _counter(limit=3)
    assert await _admitted(counter, "ann", 3) == [0, 0, 0]
    clock[0] += 45.5
    assert await counter.admit("ann") == 15  # ceil(60 - 45.5): what is left of Redis's window
    assert await counter.admit("bob") == 0  # other people are not affected
    assert redis.count("ann") == 3  # a refused call is not counted


async def test_grants_double_while_used_quickly_up_to_a_maximum() -> None:
    counter, redis, _ = _counter(limit=10_000)
    calls = 63 + 3 * MAX_GRANT
    assert await _admitted(counter, "ann", calls) == [0] * calls
    assert [granted for granted, _ in redis.grants] == [1, 2, 4, 8, 16, 32] + [MAX_GRANT] * 3
    assert redis.count("ann") == calls


async def test_a_person_calling_a_process_rarely_leaves_little_unused_there() -> None:
    counter, redis, clock = _counter(limit=10_000)
    await _admitted(counter, "ann", 63)  # a burst: grants 1 … 32, all used at once
    for _ in range(7):  # then a call every 5 s
        clock[0] += 5
        await counter.admit("ann")
    # 32 calls used in 5 s: about a second's worth (6) next; those 6 used in 30 s: one.
    assert [granted for granted, _ in redis.grants][6:] == [6, 1]
    assert counter._people["ann"].allowance == 0
    assert redis.count("ann") == 70


async def test_grants_shrink_as_the_limit_nears() -> None:
    counter, redis, _ = _counter(limit=40)
    await _admitted(counter, "ann", 40)
    # Never more than an eighth of what is left, so little can sit unused in one process near
    # the limit; the last calls come one grant each.
    assert all(granted <= max(1, left // GRANT_SHARE) for granted, left in redis.grants)
    assert [granted for granted, _ in redis.grants][-8:] == [1] * 8
    assert redis.count("ann") == 40
    assert await counter.admit("ann") > 0


async def test_the_limit_holds_exactly_across_processes() -> None:
    here, redis, _ = _counter(limit=50)
    there, _, _ = _counter(limit=50, redis=redis)
    answers = []
    for _ in range(40):
        answers += [await here.admit("ann"), await there.admit("ann")]
    admitted = answers.count(0)
    assert redis.count("ann") == 50  # everything granted, nothing beyond the limit
    unused = here._people["ann"].allowance + there._people["ann"].allowance
    assert admitted == 50 - unused and unused <= 1


async def test_a_person_over_the_limit_costs_no_round_trip_until_the_window_ends() -> None:
    counter, redis, clock = _counter(limit=2, window=10)
    await _admitted(counter, "ann", 3)
    asked = redis.requests
    assert all(wait > 0 for wait in await _admitted(counter, "ann", 100))
    assert redis.requests == asked
    clock[0] += 10  # Redis's key expires: a new window
    assert await counter.admit("ann") == 0
    assert redis.requests == asked + 1


async def test_concurrent_calls_of_one_person_share_one_grant_request() -> None:
    counter, redis, _ = _counter(limit=10_000)
    await _admitted(counter, "ann", 63)  # grants 1 … 32: the next asks for 50
    asked = redis.requests
    answers = await asyncio.gather(*(counter.admit("ann") for _ in range(20)))
    assert answers == [0] * 20
    assert redis.requests == asked + 1


async def test_concurrent_calls_at_the_limit_are_refused_not_over_granted() -> None:
    counter, redis, _ = _counter(limit=3)
    answers = await asyncio.gather(*(counter.admit("ann") for _ in range(10)))
    assert sorted(answers)[:4] == [0, 0, 0, 60]
    assert redis.count("ann") == 3


async def test_redis_down_fails_a_call_that_needs_a_grant_not_one_already_granted() -> None:
    counter, redis, _ = _counter(limit=10_000)
    await _admitted(counter, "ann", 4)  # grants 1, 2, 4: ann holds three more calls
    redis.fail = True
    assert await _admitted(counter, "ann", 3) == [0, 0, 0]
    with pytest.raises(ConnectionError):
        await counter.admit("ann")
    with pytest.raises(ConnectionError):
        await counter.admit("bob")
    redis.fail = False
    assert await counter.admit("ann") == 0
    assert redis.count("ann") == 15


async def test_people_whose_window_ended_are_forgotten() -> None:
    counter, _, clock = _counter(limit=5, window=10)
    await counter.admit("ann")
    clock[0] += 11
    await counter.admit("bob")
    assert set(counter._people) == {"bob"}


async def test_no_limit_counts_nothing() -> None:
    counter, redis, _ = _counter(limit=0)
    assert await _admitted(counter, "ann", 1000) == [0] * 1000
    assert not counter.enabled
    assert counter._people == {} and redis.requests == 0


async def test_a_call_cancelled_while_asking_does_not_block_the_next() -> None:
    counter, redis, _ = _counter(limit=10_000)
    answered = asyncio.Event()

    async def slow_grant(key: str, wanted: int) -> tuple[int, int]:
        await answered.wait()
        return await redis.grant(key, wanted)

    counter._grant = slow_grant
    asking = asyncio.create_task(counter.admit("ann"))
    await asyncio.sleep(0)
    asking.cancel()  # e.g. the caller's deadline passed
    with pytest.raises(asyncio.CancelledError):
        await asking
    answered.set()
    assert await counter.admit("ann") == 0


async def test_a_grant_answered_after_its_caller_was_cancelled_is_kept() -> None:
    """Redis counted it, so the person's next calls use it instead of asking again."""
    counter, redis, _ = _counter(limit=10_000)
    assert await counter.admit("ann") == 0  # a first grant, so the next asks for more than one
    answered = asyncio.Event()
    plain_grant = counter._grant

    async def slow_grant(key: str, wanted: int) -> tuple[int, int]:
        await answered.wait()
        return await plain_grant(key, wanted)

    counter._grant = slow_grant
    asking = asyncio.create_task(counter.admit("ann"))
    await asyncio.sleep(0)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    answered.set()
    for _ in range(5):  # Redis's answer arrives after the caller left
        await asyncio.sleep(0)
    requests = redis.requests
    granted = counter._people["ann"].allowance
    assert granted >= 2
    for _ in range(granted):
        assert await counter.admit("ann") == 0
    assert redis.requests == requests  # all from the kept grant
