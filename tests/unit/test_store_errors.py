"""errors.unavailable_on: driver errors become Unavailable; a cancelled caller never interrupts the
driver's operation (it runs on to its own end) and a late failure is collected, not leaked."""

from __future__ import annotations

import asyncio
import gc

import pytest

from services.common.errors import Unavailable, unavailable_on


class DriverDown(Exception):
    pass


async def test_driver_errors_become_unavailable() -> None:
    @unavailable_on((DriverDown,), "store is unavailable")
    async def read() -> int:
        raise DriverDown("refused")

    with pytest.raises(Unavailable, match="store is unavailable"):
        await read()


async def test_other_errors_pass_through() -> None:
    @unavailable_on((DriverDown,), "store is unavailable")
    async def read() -> int:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await read()


async def test_a_cancelled_caller_does_not_interrupt_the_operation() -> None:
    release = asyncio.Event()
    finished: list[str] = []

    @unavailable_on((DriverDown,), "store is unavailable")
    async def write() -> int:
        try:
            await release.wait()
            finished.append("completed")
            return 1
        except asyncio.CancelledError:
            finished.append("interrupted")
            raise

    caller = asyncio.create_task(write())
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert finished == ["completed"]


async def test_a_late_failure_after_cancellation_is_collected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    @unavailable_on((DriverDown,), "store is unavailable")
    async def write() -> int:
        await release.wait()
        raise DriverDown("went away")

    caller = asyncio.create_task(write())
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    gc.collect()
    assert "never retrieved" not in caplog.text
