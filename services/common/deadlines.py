"""Deadlines across hops: a call made while serving another gets the smaller of its own timeout
and what remains of the incoming call's deadline, so nobody works for a caller that gave up.

The server interceptor records the incoming deadline (`adopt_incoming`); channels made by
services.common.clients apply it to every outgoing call (`DeadlinePropagation`).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

import grpc

# Absolute, on time.monotonic(); None: the incoming call has no deadline (or there is none).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "incoming_deadline", default=None
)


def adopt_incoming(time_remaining: float | None) -> None:
    """Called per incoming call with `context.time_remaining()`."""
    _deadline.set(None if time_remaining is None else time.monotonic() + time_remaining)


def bounded_timeout(timeout: float | None) -> float | None:
    """`timeout` cut to what remains of the incoming deadline (0 when it has passed)."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = max(0.0, deadline - time.monotonic())
    return remaining if timeout is None or remaining < timeout else timeout


def _bounded(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    timeout = bounded_timeout(details.timeout)
    if timeout == details.timeout:
        return details
    return grpc.aio.ClientCallDetails(
        details.method, timeout, details.metadata, details.credentials, details.wait_for_ready
    )


class DeadlinePropagation(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.StreamUnaryClientInterceptor
):
    """The client half: our services make unary and client-streaming calls only."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_bounded(client_call_details), request)

    async def intercept_stream_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Iterable[Any] | AsyncIterable[Any],
    ) -> Any:
        return await continuation(_bounded(client_call_details), request_iterator)
