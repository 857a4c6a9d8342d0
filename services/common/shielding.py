"""`shielded`: awaiting an operation that the caller's cancellation must not interrupt."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

R = TypeVar("R")


def collect_outcome(task: asyncio.Future[Any]) -> None:
    """Retrieves a finished task's outcome, so a late failure nobody awaits is not reported as
    "exception never retrieved"."""
    if not task.cancelled():
        task.exception()


async def shielded(
    operation: Awaitable[R],
    if_abandoned: Callable[[asyncio.Future[R]], None] = collect_outcome,
) -> R:
    """Awaits `operation` in a task of its own. A caller cancelled meanwhile (its deadline
    passed) stops waiting; the operation runs on, and `if_abandoned` gets its task when it is
    done (it must retrieve the outcome, as `collect_outcome` does)."""
    task = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(if_abandoned)
        raise
