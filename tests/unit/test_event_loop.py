"""services/common/event_loop.py: which loop a service runs on, and a clear error for a bad one."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import uvloop

from services.common import event_loop


async def _loop_type(seen: list[type]) -> None:
    seen.append(type(asyncio.get_running_loop()))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("", uvloop.Loop), ("uvloop", uvloop.Loop), ("asyncio", asyncio.BaseEventLoop)],
)
def test_runs_main_on_the_chosen_loop(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: type
) -> None:
    monkeypatch.setenv("INSIGHT_EVENT_LOOP", setting)
    seen: list[type] = []
    event_loop.run(_loop_type(seen))
    assert len(seen) == 1 and issubclass(seen[0], expected)
    if setting == "asyncio":
        assert not issubclass(seen[0], uvloop.Loop)


def test_an_unknown_loop_is_refused_and_main_never_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INSIGHT_EVENT_LOOP", "trio")
    seen: list[type] = []
    main = _loop_type(seen)
    with pytest.raises(SystemExit, match="INSIGHT_EVENT_LOOP must be one of uvloop, asyncio"):
        event_loop.run(main)
    assert seen == [] and inspect.getcoroutinestate(main) == inspect.CORO_CLOSED
