"""PersonCallCounter: calls admitted against this process's knowledge, added to Redis in batches
(here a fake Redis counter with a manual clock)."""

from __future__ import annotations

import pytest

from services.common.call_counter import KEY_PREFIX, PersonCallCounter, UserRateLimit


class FakeCounters:
    """Redis's side: one count per key, its window starting with the first call counted."""

    def __init__(self, clock: list[float], window_seconds: int) -> None:
        self.clock = clock
        self.window = window_seconds
        self.counts: dict[str, tuple[int, float]] = {}  # key -> (calls, window end)
        self.fail = False
        self.batches: list[dict[str, int]] = []

    async def add_calls(self, keys: list[str], calls: list[int]) -> list[tuple[int, int]]:
        if self.fail:
            raise ConnectionError("redis is down")
        self.batches.append(dict(zip(keys, calls, strict=True)))
        answers = []
        now = self.clock[0]
        for key, n in zip(keys, calls, strict=True):
            count, ends = self.counts.get(key, (0, now + self.window))
            if now >= ends:
                count, ends = 0, now + self.window
            self.counts[key] = (count + n, ends)
            answers.append((count + n, int((ends - now) * 1000)))
        return answers


def _counter(limit: int, window: int = 60) -> tuple[PersonCallCounter, FakeCounters, list[float]]:
    clock = [1000.0]
    redis = FakeCounters(clock, window)
    counter = PersonCallCounter(UserRateLimit(limit, window), redis.add_calls, lambda: clock[0])
    return counter, redis, clock


def test_admits_up_to_the_limit_then_says_how_long_to_wait() -> None:
    counter, _, _ = _counter(limit=3)
    assert [counter.admit("ann") for _ in range(3)] == [0, 0, 0]
    # Nothing flushed yet, so the window's end is unknown: the whole window is the honest wait.
    assert counter.admit("ann") == 60
    assert counter.admit("bob") == 0  # other people are not affected


async def test_after_a_flush_the_wait_is_what_is_left_of_redis_window() -> None:
    counter, redis, clock = _counter(limit=2)
    counter.admit("ann")
    await counter.flush()
    clock[0] += 45.5
    counter.admit("ann")
    assert counter.admit("ann") == 15  # ceil(60 - 45.5)
    assert redis.counts[KEY_PREFIX + "ann"][0] == 1  # the second call is not flushed yet
    await counter.flush()
    assert redis.counts[KEY_PREFIX + "ann"][0] == 2  # the refused call was not counted


async def test_calls_in_other_processes_count_once_flushed() -> None:
    clock = [1000.0]
    redis = FakeCounters(clock, 60)
    here = PersonCallCounter(UserRateLimit(5, 60), redis.add_calls, lambda: clock[0])
    there = PersonCallCounter(UserRateLimit(5, 60), redis.add_calls, lambda: clock[0])
    for _ in range(4):
        assert there.admit("ann") == 0
    await there.flush()
    assert here.admit("ann") == 0
    await here.flush()  # learns Redis's sum: 5 calls
    assert here.admit("ann") > 0
    assert redis.batches == [{KEY_PREFIX + "ann": 4}, {KEY_PREFIX + "ann": 1}]


async def test_a_new_window_starts_when_redis_window_ends() -> None:
    counter, _, clock = _counter(limit=1, window=10)
    assert counter.admit("ann") == 0
    await counter.flush()
    assert counter.admit("ann") == 10
    clock[0] += 10
    assert counter.admit("ann") == 0


async def test_calls_counted_while_redis_is_down_are_added_when_it_is_back() -> None:
    counter, redis, _ = _counter(limit=3)
    counter.admit("ann")
    counter.admit("ann")
    redis.fail = True
    with pytest.raises(ConnectionError):
        await counter.flush()
    assert counter.admit("ann") == 0
    assert counter.admit("ann") > 0  # the failed batch still counts against the limit
    redis.fail = False
    await counter.flush()
    assert redis.batches == [{KEY_PREFIX + "ann": 3}]
    await counter.flush()  # nothing new: no call to Redis at all
    assert len(redis.batches) == 1


async def test_calls_admitted_during_a_flush_go_with_the_next() -> None:
    clock = [1000.0]
    redis = FakeCounters(clock, 60)

    async def add_while_a_call_arrives(keys: list[str], calls: list[int]) -> list[tuple[int, int]]:
        if not redis.batches:
            counter.admit("ann")  # admitted while the first flush waits for Redis
        return await redis.add_calls(keys, calls)

    counter = PersonCallCounter(UserRateLimit(10, 60), add_while_a_call_arrives, lambda: clock[0])
    counter.admit("ann")
    await counter.flush()
    await counter.flush()
    assert redis.batches == [{KEY_PREFIX + "ann": 1}, {KEY_PREFIX + "ann": 1}]
    assert redis.counts[KEY_PREFIX + "ann"][0] == 2


async def test_calls_on_their_way_to_redis_still_count_against_the_limit() -> None:
    clock = [1000.0]
    redis = FakeCounters(clock, 60)
    during_flush: list[int] = []

    async def add_while_calls_arrive(keys: list[str], calls: list[int]) -> list[tuple[int, int]]:
        during_flush.extend(counter.admit("ann") for _ in range(2))
        return await redis.add_calls(keys, calls)

    counter = PersonCallCounter(UserRateLimit(3, 60), add_while_calls_arrive, lambda: clock[0])
    assert [counter.admit("ann") for _ in range(2)] == [0, 0]
    await counter.flush()
    # Two calls were in flight to Redis: one more fits, the next is over the limit.
    assert during_flush[0] == 0 and during_flush[1] > 0
    assert counter.admit("ann") > 0
    assert redis.counts[KEY_PREFIX + "ann"][0] == 2  # the third is not flushed yet


def test_what_redis_answered_another_way_is_learned() -> None:
    counter, _, _ = _counter(limit=3)
    # The per-call check counted 3 already, this one the third: admitted.
    assert counter.observe("ann", count=3, ms_left=20_500) == 0
    assert counter.admit("ann") == 21
    assert counter.observe("ann", count=4, ms_left=20_000) == 20  # over by that path too


async def test_people_whose_window_ended_are_forgotten() -> None:
    counter, _, clock = _counter(limit=5, window=10)
    counter.admit("ann")
    await counter.flush()
    clock[0] += 11
    await counter.flush()
    assert counter._people == {}


def test_no_limit_counts_nothing() -> None:
    counter, _, _ = _counter(limit=0)
    assert all(counter.admit("ann") == 0 for _ in range(1000))
    assert not counter.enabled
    assert counter._people == {}
