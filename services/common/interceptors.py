"""The one server interceptor every service installs.

Per call it: adopts Envoy's `x-request-id` (or makes one), authenticates the caller by the
method's access rule, maps domain errors to statuses with google.rpc details (never a stack
trace), logs the outcome and records metrics.

Which outcomes are logged at INFO: failures, slow calls and calls from another service (the
internal hops of a request, which no other log sees). A person's successful call is logged at
DEBUG: Envoy's access log already has one line per public request with the same request id,
status and duration, and the service's line was ~15 % of a GET's CPU.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeAlias

import grpc
from grpc_status import rpc_status

from services.common.admission import CallAdmission
from services.common.deadlines import adopt_incoming
from services.common.errors import (
    INTERNAL_STATUS,
    DomainError,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    to_status_proto,
)
from services.common.metrics import observe_rpc
from services.common.request_context import Caller, caller_var, new_request_id, request_id_var
from services.common.tokens import TokenCodec

log = logging.getLogger("rpc")
# A successful person's call this slow is logged at INFO too (the contract's latency promise).
SLOW_CALL_SECONDS = 0.3

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class Access(Enum):
    PUBLIC = "public"  # no credentials (sign-up, login, health, reflection)
    USER = "user"  # a person's access token
    SERVICE = "service"  # another service's credential only


@dataclass(frozen=True)
class AccessPolicy:
    """Which credential each method needs; by full method name or `/package.Service/` prefix."""

    public: frozenset[str] = frozenset()
    service_only: frozenset[str] = frozenset()
    default: Access = Access.USER
    always_public: tuple[str, ...] = field(default=("/grpc.health.v1.Health/", "/grpc.reflection."))

    def rule_for(self, method: str) -> Access:
        if method.startswith(self.always_public) or method in self.public:
            return Access.PUBLIC
        if any(method.startswith(prefix) for prefix in self.service_only):
            return Access.SERVICE
        return self.default


class Authenticator:
    def __init__(self, codec: TokenCodec, admission: CallAdmission | None) -> None:
        self._codec = codec
        self._admission = admission  # None: no revocation check or per-person limit

    def start(self) -> None:
        if self._admission is not None:
            self._admission.start()

    async def close(self) -> None:
        if self._admission is not None:
            await self._admission.close()

    async def authenticate(self, authorization: str, rule: Access) -> Caller | None:
        """`authorization`: the call's authorization header ("" when it has none)."""
        if rule is Access.PUBLIC:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing bearer token")
        caller = self._codec.verify(token.strip())
        if rule is Access.SERVICE:
            if not caller.service:
                raise PermissionDenied("this method is for services only")
            return caller
        if caller.service:
            return caller  # services may act on a person's behalf in internal calls
        if self._admission is None:
            return caller
        admission = await self._admission.admit(caller.token_id, caller.session_id, caller.user_id)
        if admission.revoked:
            raise Unauthenticated("access token revoked")
        if admission.retry_after_seconds:
            raise ResourceExhausted(
                f"too many requests; try again in {admission.retry_after_seconds} seconds",
                retry_after_seconds=admission.retry_after_seconds,
            )
        return caller


def _call_headers(context: Context) -> tuple[str, str]:
    """The call's x-request-id and authorization ("" for a missing one), in one pass."""
    request_id = authorization = ""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            request_id = str(value)
        elif key == "authorization":
            authorization = str(value)
    return request_id, authorization


def rpc_log_level(code: str, caller: Caller | None, seconds: float) -> int:
    if code != "OK" or seconds >= SLOW_CALL_SECONDS or (caller is not None and caller.service):
        return logging.INFO
    return logging.DEBUG


class ServiceInterceptor:
    """Wraps the handler of every method a server serves (`InterceptedHandlers`).

    Not a grpc.aio server interceptor: grpc runs those as a chain of coroutines on every call
    before the handler is found; here each method's handler is wrapped once, and a call finds
    its wrapped handler with one dict lookup."""

    def __init__(self, authenticator: Authenticator, policy: AccessPolicy) -> None:
        self._authenticator = authenticator
        self._policy = policy

    def wrap(self, method: str, handler: Any) -> Any:
        """`handler` (the servicer's, for `method`) running inside this interceptor. The wrapper
        reads everything per call from the call's context, so one serves every call."""
        rule = self._policy.rule_for(method)
        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: Context) -> Any:
                return await self._run(method, rule, context, lambda: inner_unary(request, context))

            return grpc.unary_unary_rpc_method_handler(
                unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary is not None:
            inner_stream = handler.stream_unary

            async def stream_unary(requests: AsyncIterator[Any], context: Context) -> Any:
                return await self._run(
                    method, rule, context, lambda: inner_stream(requests, context)
                )

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, handler.request_deserializer, handler.response_serializer
            )
        if rule is not Access.PUBLIC:
            # Response-streaming methods are only health and reflection; refuse anything else
            # rather than serve it unauthenticated.
            raise RuntimeError(f"streaming responses are not supported for {method}")
        return handler

    async def _run(
        self,
        method: str,
        rule: Access,
        context: Context,
        call: Callable[[], Awaitable[Any]],
    ) -> Any:
        request_id, authorization = _call_headers(context)
        request_id_var.set(request_id[:128] if request_id else new_request_id())
        adopt_incoming(context.time_remaining())  # calls made for this one get what remains
        started = time.perf_counter()
        code = "OK"
        caller: Caller | None = None
        # An error's status is sent only after its log line is written: abort sends at once, so
        # aborting first would let the caller see the answer before the call is in the log.
        error_status: grpc.Status | None = None
        try:
            caller = await self._authenticator.authenticate(authorization, rule)
            caller_var.set(caller)
            return await call()
        except DomainError as error:
            code = error.code.name
            error_status = rpc_status.to_status(to_status_proto(error))
        except grpc.aio.AbortError:
            code = context.code().name if context.code() else "UNKNOWN"
            raise
        except asyncio.CancelledError:
            code = "CANCELLED"  # the caller went away or its deadline passed; not a success
            raise
        except Exception:
            code = "INTERNAL"
            log.exception("unhandled error", extra={"method": method})
            error_status = rpc_status.to_status(INTERNAL_STATUS)
        finally:
            elapsed = time.perf_counter() - started
            observe_rpc(method, code, elapsed)
            level = rpc_log_level(code, caller, elapsed)
            if log.isEnabledFor(level):
                extra = {"method": method, "code": code, "ms": round(elapsed * 1000, 2)}
                log.log(level, "rpc", extra=extra)
        if error_status is not None:
            await context.abort_with_status(error_status)


class InterceptedHandlers(grpc.GenericRpcHandler):
    """The generic handlers of every service of a server behind one lookup, each method's
    handler wrapped by the interceptor the first time it is called."""

    def __init__(self, interceptor: ServiceInterceptor) -> None:
        self._interceptor = interceptor
        self._inner: list[grpc.GenericRpcHandler] = []
        # Only methods that exist: a name nothing serves is not kept (callers choose names).
        self._wrapped: dict[str, Any] = {}

    def add(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._inner.extend(handlers)

    # grpc's stubs type handlers for the sync API; the aio behaviours are wrapped as Any here.
    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        method: str = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        for inner in self._inner:
            handler = inner.service(handler_call_details)
            if handler is not None:
                wrapped = self._wrapped[method] = self._interceptor.wrap(method, handler)
                return wrapped
        return None
