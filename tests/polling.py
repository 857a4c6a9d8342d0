"""Polling for what settles in the background (log lines written, series scraped): a bound on the
wait, not a timing assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], within: float, interval: float = 0.1) -> T:
    """check()'s first truthy answer, polled for up to `within` seconds; its last answer
    otherwise (falsy, for the caller's assertion)."""
    deadline = time.monotonic() + within
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(interval)
    return answer
