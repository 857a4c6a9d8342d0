"""`unavailable_on`: how every store adapter calls its engine's driver.

Three things per call, in one decorator so no adapter can forget one:
- the driver's "cannot reach the engine" errors become Unavailable (503; the caller may retry),
  so no driver type leaks past the adapter;
- the driver's operation is shielded from cancellation: a caller whose deadline passed stops
  waiting, the operation runs on to the driver's own timeouts. Interrupting a driver
  mid-operation is what broke PyMongo 4.20's async client for good in a fault test (its
  server-selection lock raised "Lock is not acquired" and every later call failed);
- an outage breaker per adapter: once a call finds the engine unreachable, further calls are
  refused at once for a moment instead of each waiting out the driver's timeouts (PyMongo's
  server selection: 10 s; Neo4j: its connection timeout and retries). Then one call at a time
  goes through as a probe, and the first that reaches the engine lets everyone through again.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, ParamSpec, TypeVar

from services.common.errors import Unavailable
from services.common.metrics import STORE_CALLS_REFUSED
from services.common.shielding import shielded

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("store")

# Long enough that a burst of calls during an outage costs one driver timeout, not one each;
# short enough that a store back after a blip is used again within about a second.
PROBE_INTERVAL_SECONDS: Final = 1.0
# A probe still out after this is taken as lost (a connection hung with no timeout): the next
# call probes instead, so one stuck call cannot keep the store refused for good.
PROBE_GIVE_UP_SECONDS: Final = 15.0


# The breaker whose call is running: a decorated method called by another on the same adapter
# is part of that call (the probe's own steps must not be refused as a second probe).
_running_breaker: contextvars.ContextVar[OutageBreaker | None] = contextvars.ContextVar(
    "running_breaker", default=None
)


class Passage(enum.Enum):
    GO = "go"  # the engine is reachable as far as anyone knows
    PROBE = "probe"  # it was not; this call finds out whether it is again
    REFUSED = "refused"  # it was not moments ago, or another call is finding out


class OutageBreaker:
    """Whether calls to one engine should go to it, from how recent calls fared."""

    def __init__(
        self,
        store: str,
        probe_interval: float = PROBE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._probe_interval = probe_interval
        self._clock = clock
        self._next_probe_at: float | None = None  # None: reachable
        self._probe_sent_at: float | None = None  # None: no probe out

    @property
    def reachable(self) -> bool:
        return self._next_probe_at is None

    def passage(self) -> Passage:
        if self._next_probe_at is None:
            return Passage.GO
        now = self._clock()
        probe_out = (
            self._probe_sent_at is not None and now - self._probe_sent_at < PROBE_GIVE_UP_SECONDS
        )
        if probe_out or now < self._next_probe_at:
            return Passage.REFUSED
        self._probe_sent_at = now
        return Passage.PROBE

    async def observe(
        self, operation: Awaitable[R], passage: Passage, outage: tuple[type[BaseException], ...]
    ) -> R:
        """Runs the operation and learns from its outcome: an `outage` error means unreachable,
        a result means reachable. Other errors say nothing sure (a duplicate key comes from the
        engine, a bad argument may not have reached it), so they change nothing. Runs in a task
        of its own (shielded), so marking this breaker's call as running stays with this call."""
        _running_breaker.set(self)
        try:
            result = await operation
        except outage:
            self._unreachable()
            raise
        finally:
            if passage is Passage.PROBE:
                # A probe given up on may end after a newer one went out; clearing then lets one
                # more call through early, which costs one driver call and nothing else.
                self._probe_sent_at = None
        self._reached()
        return result

    def _unreachable(self) -> None:
        if self._next_probe_at is None:
            log.warning(
                "store unreachable; calls refused at once, one probe per %.1f s",
                self._probe_interval,
                extra={"store": self._store},
            )
        self._next_probe_at = self._clock() + self._probe_interval

    def _reached(self) -> None:
        if self._next_probe_at is not None:
            log.info("store reachable again", extra={"store": self._store})
        self._next_probe_at = None


class StoreGuard:
    """The decorator `unavailable_on` returns: one per kind of adapter, one breaker per adapter."""

    def __init__(
        self,
        errors: tuple[type[BaseException], ...],
        message: str,
        store: str,
        outage: tuple[type[BaseException], ...],
        probe_interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._errors = errors
        self._message = message
        self._store = store
        self._outage = outage
        self._probe_interval = probe_interval
        self._clock = clock
        self._breakers: weakref.WeakKeyDictionary[object, OutageBreaker] = (
            weakref.WeakKeyDictionary()
        )

    def breaker_of(self, adapter: object) -> OutageBreaker:
        breaker = self._breakers.get(adapter)
        if breaker is None:
            breaker = OutageBreaker(self._store, self._probe_interval, self._clock)
            self._breakers[adapter] = breaker
        return breaker

    def __call__(self, method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(method)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            breaker = self.breaker_of(args[0])
            if _running_breaker.get() is breaker:
                return await method(*args, **kwargs)
            passage = breaker.passage()
            if passage is Passage.REFUSED:
                STORE_CALLS_REFUSED.labels(self._store).inc()
                raise Unavailable(self._message)
            try:
                return await shielded(
                    breaker.observe(method(*args, **kwargs), passage, self._outage)
                )
            except self._errors as exc:
                raise Unavailable(self._message) from exc

        return guarded


def unavailable_on(
    errors: tuple[type[BaseException], ...],
    message: str,
    *,
    store: str,
    outage: tuple[type[BaseException], ...] | None = None,
    probe_interval: float = PROBE_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> StoreGuard:
    """A decorator for a store adapter's methods. `errors` become Unavailable(`message`);
    `outage` (default: all of `errors`) are the ones that mean the engine cannot be reached,
    which open the adapter's breaker. `store` names it in logs and metrics."""
    return StoreGuard(
        errors, message, store, errors if outage is None else outage, probe_interval, clock
    )
