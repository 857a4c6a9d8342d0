"""`serve()`: the one way every service starts a grpc.aio server.

It installs the shared interceptor, the standard health service and server reflection, exports
metrics, and on SIGTERM/SIGINT stops accepting calls, drains in-flight ones, then closes resources.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common.config import Settings
from services.common.interceptors import AccessPolicy, Authenticator, ServiceInterceptor
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
        interceptors=[ServiceInterceptor(authenticator, policy)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ],
    )
    for registration in registrations:
        registration.add_to_server(server)
    authenticator.start()
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [r.service_name for r in registrations]
    reflection.enable_server_reflection(
        [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{settings.bind_host}:{port}"
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"{name}: cannot listen on {address}")
    await server.start()
    start_metrics_server(settings.metrics_port, settings.bind_host)
    for service_name in ["", *names]:
        await health_servicer.set(service_name, health_pb2.HealthCheckResponse.SERVING)
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
