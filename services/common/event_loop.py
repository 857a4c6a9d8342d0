"""`run(main)`: how every service process runs its main coroutine — on uvloop by default.

uvloop is libuv's event loop in C. grpc.aio wakes the loop several times per call, and asyncio's
pure-Python loop turn (select, handles, callbacks) was most of a short call's Python-level work
(bench/load/call_count.py); on uvloop the insight process spent ~10 % less CPU per
GET /insights/{id} (bench/load/RUNS.md). INSIGHT_EVENT_LOOP=asyncio runs the standard loop instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any

import uvloop

EVENT_LOOPS = ("uvloop", "asyncio")


def chosen_event_loop() -> str:
    name = os.environ.get("INSIGHT_EVENT_LOOP", "") or EVENT_LOOPS[0]
    if name not in EVENT_LOOPS:
        raise SystemExit(f"INSIGHT_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}: {name!r}")
    return name


def run(main: Coroutine[Any, Any, None]) -> None:
    """Runs `main` to completion on the chosen loop (asyncio.run's semantics)."""
    try:
        loop = chosen_event_loop()
    except SystemExit:
        main.close()  # never awaited: close it so Python does not warn about it
        raise
    if loop == "uvloop":
        uvloop.run(main)
    else:
        asyncio.run(main)
