"""`serve()`: the one way every service starts a grpc.aio server.

It installs the shared interceptor, the standard health service and server reflection, exports
metrics, and on SIGTERM/SIGINT stops accepting calls, drains in-flight ones, then closes resources.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from services.common.config import Settings
from services.common.interceptors import (
    AccessPolicy,
    Authenticator,
    InterceptedHandlers,
    ServiceInterceptor,
)
from services.common.metrics import start_metrics_server

log = logging.getLogger("server")

GRACE_SECONDS = 10.0
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# Envoy forwards every request header as metadata, x-envoy-original-path (the whole REST URL)
# included, so a GET /suggestions with a long `context` arrives as ~20 KB of metadata. gRPC's
# default hard cap (16 KiB) refused those with RESOURCE_EXHAUSTED (HTTP 429); Envoy itself caps
# request headers at 60 KiB, so accept what it lets through.
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class Registration:
    """One servicer: its full service name and the generated `add_*_to_server` function."""

    service_name: str
    add_to_server: Callable[[grpc.aio.Server], None]


class _GenericHandlersOnly:
    """The server as the generated `add_*_to_server` functions see it: each gives a generic
    handler and the same methods again as "registered methods"; only the generic one is kept.

    grpc.aio keeps one pending request per registered method and, for every call that arrives,
    waits on all of them (`asyncio.wait(..., FIRST_COMPLETED)`) and re-arms the one that fired:
    with the insight service's 23 methods that was ~170 of the ~720 Python-level calls a
    `GET /insights/{id}` cost. A generic handler serves the same methods, found by name, from
    one pending request."""

    def __init__(self, server: grpc.aio.Server, interceptor: ServiceInterceptor) -> None:
        self._handlers = InterceptedHandlers(interceptor)
        server.add_generic_rpc_handlers([self._handlers])

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._handlers.add(handlers)

    def add_registered_method_handlers(
        self, service_name: str, handlers: dict[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        """Dropped: the generic handler given alongside serves these methods."""


def registrar(server: grpc.aio.Server, interceptor: ServiceInterceptor) -> grpc.aio.Server:
    """Where the generated `add_*_to_server` functions register: generic handlers only, behind
    one lookup that wraps each method in the interceptor. They call only the two methods above
    (duck typing)."""
    return cast(grpc.aio.Server, _GenericHandlersOnly(server, interceptor))


def freeze_startup_objects() -> None:
    """Moves every object alive now (modules, protobuf descriptors, servicers, stores, models)
    to the collector's permanent generation. They live as long as the process, yet each full
    collection re-scanned them all: ~20-30 ms per collection in an insight process, about every
    10 s under load, stalling every call in flight (a p99 of 42-70 ms at a fixed 1,200 req/s
    against 27-39 ms frozen, where full collections take < 1 ms). Objects made later are
    collected as before."""
    gc.freeze()


async def serve(
    *,
    name: str,
    port: int,
    settings: Settings,
    registrations: Sequence[Registration],
    authenticator: Authenticator,
    policy: AccessPolicy,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ],
    )
    registered = registrar(server, ServiceInterceptor(authenticator, policy))
    for registration in registrations:
        registration.add_to_server(registered)
    authenticator.start()
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registered)
    names = [r.service_name for r in registrations]
    # What reflection.enable_server_reflection does, minus its isinstance check on the server
    # (the generated module it calls has no type stubs).
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(  # type: ignore[no-untyped-call]
        reflection.aio.ReflectionServicer([*names, health.SERVICE_NAME, reflection.SERVICE_NAME]),
        registered,
    )
    address = f"{settings.bind_host}:{port}"
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"{name}: cannot listen on {address}")
    await server.start()
    start_metrics_server(settings.metrics_port, settings.bind_host)
    for service_name in ["", *names]:
        await health_servicer.set(service_name, health_pb2.HealthCheckResponse.SERVING)
    freeze_startup_objects()
    log.info("serving", extra={"address": address, "services": names})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("draining")
    for service_name in ["", *names]:
        await health_servicer.set(service_name, health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.stop(GRACE_SECONDS)
    if on_stop is not None:
        await on_stop()
    await authenticator.close()
    log.info("stopped")
