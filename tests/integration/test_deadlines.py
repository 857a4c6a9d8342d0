"""Deadlines cross hops: two in-process grpc.aio servers, the way every service runs them (the
shared server interceptor; an outgoing channel from services.common.clients). The downstream
reads `context.time_remaining()`: it never gets more time than the caller has left."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from services.common.clients import async_channel
from services.common.interceptors import AccessPolicy, Authenticator, ServiceInterceptor
from services.common.server import registrar
from services.common.tokens import TokenCodec

RELAY = "/test.Middle/Relay"
PROBE = "/test.Downstream/Probe"
OWN_TIMEOUT_SECONDS = 10.0  # what the middle service would allow its call on its own
SECRET = secrets.token_urlsafe(36)
# grpc-timeout travels in whole units of a coarse resolution, rounded up: allow a hair more.
ROUNDING = 0.1


def _identity(data: bytes) -> bytes:
    return data


@dataclass
class Downstream:
    """Answers at once, or hangs ("frozen") until its caller gives up."""

    frozen: bool = False
    deadlines: list[float | None] = field(default_factory=list)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def probe(self, request: bytes, context: Any) -> bytes:
        self.deadlines.append(context.time_remaining())
        if self.frozen:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        return b"ok"


class _Generic(grpc.GenericRpcHandler):
    def __init__(self, methods: dict[str, Any]) -> None:
        self._methods = methods

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        behaviour = self._methods.get(handler_call_details.method)
        if behaviour is None:
            return None
        return grpc.unary_unary_rpc_method_handler(behaviour, _identity, _identity)


async def _serve(methods: dict[str, Any]) -> tuple[grpc.aio.Server, str]:
    codec = TokenCodec(SECRET, "HS256", "insight-tracker", 900, SECRET)
    policy = AccessPolicy(public=frozenset(methods))
    server = grpc.aio.server()
    # The services' own wiring (serve() registers through it): generic handlers, intercepted.
    interceptor = ServiceInterceptor(Authenticator(codec, None), policy)
    registrar(server, interceptor).add_generic_rpc_handlers([_Generic(methods)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@dataclass
class Hops:
    downstream: Downstream
    caller: grpc.aio.Channel


@pytest.fixture()
async def hops() -> AsyncIterator[Hops]:
    downstream = Downstream()
    low, low_address = await _serve({PROBE: downstream.probe})
    outgoing = async_channel(low_address)
    probe = outgoing.unary_unary(PROBE, _identity, _identity)

    async def relay(request: bytes, context: Any) -> bytes:
        try:
            reply: bytes = await probe(request, timeout=OWN_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            await context.abort(error.code(), error.details() or "")
        return reply

    middle, middle_address = await _serve({RELAY: relay})
    caller = grpc.aio.insecure_channel(middle_address)
    yield Hops(downstream, caller)
    await caller.close()
    await outgoing.close()
    await middle.stop(None)
    await low.stop(None)


async def _relay(hops: Hops, deadline: float | None) -> bytes:
    call = hops.caller.unary_unary(RELAY, _identity, _identity)
    reply: bytes = await call(b"hi", timeout=deadline)
    return reply


async def test_the_next_hop_gets_what_remains_of_the_callers_deadline(hops: Hops) -> None:
    assert await _relay(hops, deadline=2.0) == b"ok"
    [remaining] = hops.downstream.deadlines
    assert remaining is not None and 0 < remaining <= 2.0 + ROUNDING


async def test_without_a_caller_deadline_the_hop_uses_its_own(hops: Hops) -> None:
    assert await _relay(hops, deadline=None) == b"ok"
    [remaining] = hops.downstream.deadlines
    assert remaining is not None and 2.0 + ROUNDING < remaining <= OWN_TIMEOUT_SECONDS + ROUNDING


async def test_a_frozen_downstream_stops_with_the_caller(
    hops: Hops, caplog: pytest.LogCaptureFixture
) -> None:
    """The caller gets DEADLINE_EXCEEDED; the downstream, given no more time than the caller,
    is cancelled too instead of working for a caller that is gone."""
    caplog.set_level(logging.INFO, logger="rpc")
    hops.downstream.frozen = True
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _relay(hops, deadline=1.0)
    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    [remaining] = hops.downstream.deadlines
    assert remaining is not None and 0 < remaining <= 1.0 + ROUNDING
    await asyncio.wait_for(hops.downstream.cancelled.wait(), 30)
    await asyncio.sleep(0)  # let the interceptor record the outcome
    logged = [r for r in caplog.records if getattr(r, "method", "") == PROBE]
    assert [getattr(r, "code", "") for r in logged] == ["CANCELLED"]
