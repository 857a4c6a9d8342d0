"""InterceptedHandlers: every service's methods behind one lookup, each wrapped once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc

from services.common.interceptors import (
    AccessPolicy,
    Authenticator,
    InterceptedHandlers,
    ServiceInterceptor,
)
from services.common.tokens import TokenCodec

SECRET = "s" * 32


@dataclass
class Details:  # grpc.HandlerCallDetails is a protocol
    method: str
    invocation_metadata: tuple[tuple[str, str | bytes], ...] = field(default=())


async def _answer(request: bytes, context: Any) -> bytes:
    return request


async def _stream(request: bytes, context: Any) -> Any:
    yield request


def _handlers() -> tuple[InterceptedHandlers, dict[str, int]]:
    asked: dict[str, int] = {}

    class Counting(grpc.GenericRpcHandler):
        def __init__(self, methods: dict[str, Any]) -> None:
            self._methods = methods

        def service(self, handler_call_details: Any) -> Any:
            asked[handler_call_details.method] = asked.get(handler_call_details.method, 0) + 1
            return self._methods.get(handler_call_details.method)

    codec = TokenCodec(SECRET, "HS256", "insight-tracker", 900, SECRET)
    policy = AccessPolicy(public=frozenset({"/a.A/Get", "/b.B/Watch"}))
    handlers = InterceptedHandlers(ServiceInterceptor(Authenticator(codec, None), policy))
    handlers.add([Counting({"/a.A/Get": grpc.unary_unary_rpc_method_handler(_answer)})])
    handlers.add([Counting({"/b.B/Watch": grpc.unary_stream_rpc_method_handler(_stream)})])
    return handlers, asked


def test_each_method_is_wrapped_once_and_found_without_asking_again() -> None:
    handlers, asked = _handlers()
    first = handlers.service(Details("/a.A/Get"))
    assert first is not None
    assert first.unary_unary is not _answer  # wrapped
    assert handlers.service(Details("/a.A/Get")) is first
    assert asked == {"/a.A/Get": 1}


def test_a_later_service_is_found_after_the_first_says_no() -> None:
    handlers, _ = _handlers()
    watch = handlers.service(Details("/b.B/Watch"))
    assert watch is not None and watch.unary_stream is _stream  # public streams pass as they are


def test_an_unknown_method_is_none_and_not_remembered() -> None:
    handlers, asked = _handlers()
    assert handlers.service(Details("/no.Such/Method")) is None
    assert handlers.service(Details("/no.Such/Method")) is None
    assert asked == {"/no.Such/Method": 4}  # asked both services, both times
