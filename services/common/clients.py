"""Calling other services: channels, and the credential and request id every call carries."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable
from typing import TypeVar

import grpc

from services.common.deadlines import DeadlinePropagation
from services.common.errors import Unavailable
from services.common.request_context import current_request_id
from services.common.tokens import TokenCodec

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_TOKEN_TTL_SECONDS = 3600
_RENEW_BEFORE_SECONDS = 300
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    # Reconnect to a restarted service within seconds (gRPC's default backoff grows to 120 s).
    ("grpc.max_reconnect_backoff_ms", 5000),
]


class ServiceCredential:
    """A short-lived service token, renewed before it expires; safe to share between threads."""

    def __init__(self, codec: TokenCodec, service: str) -> None:
        self._codec = codec
        self._service = service
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if time.time() > self._expires_at - _RENEW_BEFORE_SECONDS:
                self._token = self._codec.issue_service(self._service, SERVICE_TOKEN_TTL_SECONDS)
                self._expires_at = time.time() + SERVICE_TOKEN_TTL_SECONDS
            return self._token

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("authorization", f"Bearer {self.token()}"),
            ("x-request-id", current_request_id()),
        )


def sync_channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)


def async_channel(address: str) -> grpc.aio.Channel:
    """For calls made while serving others: each gets what remains of the incoming deadline."""
    return grpc.aio.insecure_channel(
        address, options=_CHANNEL_OPTIONS, interceptors=[DeadlinePropagation()]
    )


async def answer_or_unavailable(service: str, call: Awaitable[T]) -> T:
    """The call's reply; its failure, logged, as Unavailable naming the service (the person sees
    503 and a clear message, never a stack trace)."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        log.warning("call failed", extra={"to": service, "code": error.code().name})
        raise Unavailable(f"the {service} service is unavailable") from error
