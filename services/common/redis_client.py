"""Redis connections, made in one place so every service uses the same options."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from services.common.redis_pipelined import PipelinedRedis

CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 5.0


def async_redis(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )


def subscriber_redis(url: str) -> aioredis.Redis:
    """For a subscription that must notice every lost connection: redis-py's retries would
    reconnect and resubscribe silently, skipping whatever was published in between."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def pipelined_redis(url: str) -> PipelinedRedis | None:
    """The cheap connection for per-call checks; None where it cannot speak the URL's scheme
    (TLS, unix sockets), and callers then use redis-py."""
    return PipelinedRedis(url) if url.startswith("redis://") else None


def sync_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )


# Longer than RQ's blocking pop (worker_ttl 420 s - 15 s): a read timeout inside that pop makes
# an RQ worker quit ("Redis connection timeout, quitting").
WORKER_SOCKET_TIMEOUT_SECONDS = 600.0


def worker_redis(url: str) -> redis.Redis:
    """For RQ workers, which wait on a blocking pop for minutes; a health check before use
    catches dead sockets."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=WORKER_SOCKET_TIMEOUT_SECONDS,
        socket_keepalive=True,
        health_check_interval=30,
    )
