"""store_guard.unavailable_on: driver errors become Unavailable; a cancelled caller never
interrupts the driver's operation (it runs on to its own end) and a late failure is collected;
once the engine is found unreachable, calls are refused at once and one probe at a time finds
out when it is back."""

from __future__ import annotations

import asyncio
import gc

import pytest
from prometheus_client import REGISTRY

from services.common.errors import Unavailable
from services.common.store_guard import (
    PROBE_GIVE_UP_SECONDS,
    OutageBreaker,
    Passage,
    unavailable_on,
)


class DriverDown(Exception):
    """The driver's "cannot reach the engine"."""


class DriverSlow(Exception):
    """The engine answered: over its time limit."""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


clock = Clock()
guarded = unavailable_on(
    (DriverDown, DriverSlow),
    "store is unavailable",
    store="unit",
    outage=(DriverDown,),
    probe_interval=1.0,
    clock=clock,
)


class Adapter:
    """A store adapter over a scripted driver: each call takes the next outcome."""

    def __init__(self) -> None:
        self.outcomes: list[BaseException | None] = []
        self.calls = 0
        self.release: asyncio.Event | None = None
        self.finished: list[str] = []

    @guarded
    async def read(self) -> int:
        self.calls += 1
        if self.release is not None:
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.finished.append("interrupted")
                raise
        outcome = self.outcomes.pop(0) if self.outcomes else None
        self.finished.append("completed")
        if outcome is not None:
            raise outcome
        return 1

    @guarded
    async def read_twice(self) -> int:
        return await self.read() + await self.read()


async def due_for_a_probe() -> Adapter:
    """An adapter whose engine was found unreachable, the probe interval since over."""
    adapter = Adapter()
    adapter.outcomes = [DriverDown("no server")]
    with pytest.raises(Unavailable):
        await adapter.read()
    clock.now += 1.0
    return adapter


async def cancel_its_caller(adapter: Adapter) -> None:
    """A read whose caller is cancelled mid-operation (its deadline passed); then the driver
    finishes."""
    adapter.release = asyncio.Event()
    caller = asyncio.create_task(adapter.read())
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    adapter.release.set()
    await settle()


def refused() -> float:
    return REGISTRY.get_sample_value("store_calls_refused_total", {"store": "unit"}) or 0.0


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_driver_errors_become_unavailable() -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverDown("refused")]
    with pytest.raises(Unavailable, match="store is unavailable"):
        await adapter.read()


async def test_other_errors_pass_through() -> None:
    adapter = Adapter()
    adapter.outcomes = [ValueError("a bug")]
    with pytest.raises(ValueError):
        await adapter.read()


async def test_a_cancelled_caller_does_not_interrupt_the_operation() -> None:
    adapter = Adapter()
    await cancel_its_caller(adapter)
    assert adapter.finished == ["completed"]


async def test_a_late_failure_after_cancellation_is_collected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverDown("went away")]
    await cancel_its_caller(adapter)
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_after_an_outage_error_calls_are_refused_without_the_driver() -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverDown("no server")]
    before = refused()
    with pytest.raises(Unavailable):
        await adapter.read()
    for _ in range(3):
        with pytest.raises(Unavailable, match="store is unavailable"):
            await adapter.read()
    assert adapter.calls == 1
    assert refused() == before + 3


async def test_errors_that_mean_the_engine_answered_do_not_open_it() -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverSlow("over its time limit"), KeyError("duplicate")]
    with pytest.raises(Unavailable):
        await adapter.read()
    with pytest.raises(KeyError):
        await adapter.read()
    assert await adapter.read() == 1
    assert adapter.calls == 3


async def test_each_adapter_has_its_own_breaker() -> None:
    down, up = Adapter(), Adapter()
    down.outcomes = [DriverDown("no server")]
    with pytest.raises(Unavailable):
        await down.read()
    assert await up.read() == 1


def test_one_probe_per_interval_and_the_first_that_reaches_closes_it() -> None:
    own_clock = Clock()
    breaker = OutageBreaker("unit", probe_interval=1.0, clock=own_clock)
    assert breaker.passage() is Passage.GO
    breaker._unreachable()
    assert breaker.passage() is Passage.REFUSED
    own_clock.now += 1.0
    assert breaker.passage() is Passage.PROBE
    assert breaker.passage() is Passage.REFUSED  # the probe is out: the rest wait for it
    own_clock.now += PROBE_GIVE_UP_SECONDS - 0.5
    assert breaker.passage() is Passage.REFUSED
    own_clock.now += 0.5  # a probe out this long is taken as lost (a hung connection): probe again
    assert breaker.passage() is Passage.PROBE


async def test_the_probe_goes_to_the_driver_and_reopens_or_closes() -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverDown("no server"), DriverDown("still none")]
    with pytest.raises(Unavailable):
        await adapter.read()
    with pytest.raises(Unavailable):
        await adapter.read()  # refused: no driver call
    assert adapter.calls == 1
    clock.now += 1.0
    with pytest.raises(Unavailable):
        await adapter.read()  # the probe: to the driver, fails, reopens
    assert adapter.calls == 2
    with pytest.raises(Unavailable):
        await adapter.read()  # refused for another interval
    assert adapter.calls == 2
    clock.now += 1.0
    assert await adapter.read() == 1  # the next probe reaches it
    assert await adapter.read() == 1
    assert adapter.calls == 4
    assert guarded.breaker_of(adapter).reachable


async def test_concurrent_calls_while_a_probe_is_out_are_refused() -> None:
    adapter = await due_for_a_probe()
    adapter.release = asyncio.Event()
    probe = asyncio.create_task(adapter.read())
    await asyncio.sleep(0.01)
    with pytest.raises(Unavailable):
        await adapter.read()  # refused: the probe is still out
    adapter.release.set()
    assert await probe == 1
    assert await adapter.read() == 1
    assert adapter.calls == 3


async def test_a_cancelled_probe_still_reports_what_it_found() -> None:
    adapter = await due_for_a_probe()
    await cancel_its_caller(adapter)
    assert guarded.breaker_of(adapter).reachable
    assert await adapter.read() == 1


async def test_only_a_result_closes_it() -> None:
    adapter = Adapter()
    adapter.outcomes = [DriverDown("no server"), KeyError("a bad argument")]
    with pytest.raises(Unavailable):
        await adapter.read()
    clock.now += 1.0
    with pytest.raises(KeyError):
        await adapter.read()  # a probe that failed on something else: still not known
    assert not guarded.breaker_of(adapter).reachable
    clock.now += 1.0
    assert await adapter.read() == 1
    assert guarded.breaker_of(adapter).reachable


async def test_a_probe_may_call_the_adapter_s_other_methods() -> None:
    adapter = await due_for_a_probe()
    assert await adapter.read_twice() == 2  # its inner reads are part of the probe
    assert guarded.breaker_of(adapter).reachable
