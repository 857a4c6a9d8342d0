"""When the sweeper may queue a stale insight again: at once the first time (its worker died),
then after a delay that doubles up to a cap (a dependency that stays down is not hammered)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Key = tuple[str, int]  # (insight id, version)


@dataclass
class _Attempts:
    count: int
    next_at: float


class RequeueBackoff:
    def __init__(
        self,
        first_delay_seconds: float,
        max_delay_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._first = max(0.0, first_delay_seconds)
        self._max = max(self._first, max_delay_seconds)
        self._clock = clock
        self._attempts: dict[Key, _Attempts] = {}

    def due(self, stale: Sequence[Key]) -> list[Key]:
        """Those of `stale` whose delay has passed. Insights no longer stale (done, edited,
        deleted) are forgotten, so a later outage starts again from the first delay."""
        current = set(stale)
        self._attempts = {k: a for k, a in self._attempts.items() if k in current}
        now = self._clock()
        return [k for k in stale if k not in self._attempts or self._attempts[k].next_at <= now]

    def requeued(self, key: Key) -> None:
        count = self._attempts[key].count if key in self._attempts else 0
        delay = min(self._first * 2**count, self._max)
        self._attempts[key] = _Attempts(count + 1, self._clock() + delay)
