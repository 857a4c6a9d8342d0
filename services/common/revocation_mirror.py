"""Every revoked access token and session, mirrored in this process and kept by Redis pub/sub.

Asking Redis on every call whether the caller's token was revoked cost a round trip per call.
The mirror answers from memory instead, and stays exact:
- It subscribes to CHANNEL, then loads every revocation Redis holds, and only then answers;
  revocations published meanwhile wait on its socket and are applied next.
- A revoker publishes in the same transaction (or script) that writes the revocation, then waits
  until every subscribed process has applied it and acknowledged (`wait_for_acknowledgements`):
  when a logout answers, no process admits the token any more.
- While it is not subscribed (starting, Redis down or silent, the connection lost) it answers
  "not known" and the caller asks Redis per call, as before. It reconnects and reloads by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "auth:revocations"
TOKEN_KEY_PREFIX = "auth:revoked-token:"  # noqa: S105 (a key prefix, not a secret)
FAMILY_KEY_PREFIX = "auth:revoked-family:"
ACK_KEY_PREFIX = "auth:revocation-ack:"
# How long a revoker waits for every process's acknowledgement. Only a process whose event loop
# is stalled this long misses it (it is then also answering nobody).
ACK_TIMEOUT_SECONDS = 1.0
# An idle subscription is pinged this often; no answer by the next turn means it is dead.
IDLE_PING_SECONDS = 5.0
_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
_SCAN_BATCH = 1000


@dataclass(frozen=True)
class Revocation:
    """What one revoker revoked: ids and when each stops mattering (time.time())."""

    tokens: dict[str, float] = field(default_factory=dict)
    families: dict[str, float] = field(default_factory=dict)
    ack_key: str = field(default_factory=lambda: ACK_KEY_PREFIX + uuid.uuid4().hex)

    def encode(self) -> str:
        return json.dumps({"tokens": self.tokens, "families": self.families, "ack": self.ack_key})

    @classmethod
    def decode(cls, data: bytes | str) -> Revocation:
        """Raises ValueError for anything this module did not publish."""
        body = json.loads(data)
        if not isinstance(body, dict) or not str(body.get("ack", "")).startswith(ACK_KEY_PREFIX):
            raise ValueError("not a revocation")
        tokens, families = body.get("tokens"), body.get("families")
        if not isinstance(tokens, dict) or not isinstance(families, dict):
            raise ValueError("not a revocation")
        return cls(
            {str(k): float(v) for k, v in tokens.items()},
            {str(k): float(v) for k, v in families.items()},
            str(body["ack"]),
        )


async def wait_for_acknowledgements(
    client: aioredis.Redis, revocation: Revocation, receivers: int
) -> int:
    """After publishing: waits until `receivers` processes acknowledged (or the timeout);
    returns how many did. Never raises for Redis: the revocation is already committed, and a
    process that lost Redis meanwhile has lost its subscription too, so it checks every call in
    Redis until it has reloaded."""
    deadline = time.monotonic() + ACK_TIMEOUT_SECONDS
    acknowledged = 0
    try:
        while acknowledged < receivers and (left := deadline - time.monotonic()) > 0:
            if await client.blpop([revocation.ack_key], timeout=left) is None:
                break
            acknowledged += 1
        await client.delete(revocation.ack_key)
    except (RedisError, OSError) as exc:
        log.warning("revocation acknowledgements unreadable: %s", exc)
    if acknowledged < receivers:
        log.warning(
            "revocation acknowledged by %d of %d processes in %.1f s",
            acknowledged,
            receivers,
            ACK_TIMEOUT_SECONDS,
        )
    return acknowledged


class RevocationMirror:
    def __init__(
        self,
        client: aioredis.Redis,
        session_horizon_seconds: float = math.inf,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A client of its own, without redis-py's silent reconnects: a reconnect could skip a
        # message, so every lost connection must end in a reload.
        self._client = client
        # A revoked session stays revoked in Redis as long as its refresh tokens live (days), but
        # only access tokens issued before the revocation can still name it, and they expire
        # within an access token's lifetime: the mirror keeps sessions that long (plus a margin
        # for clocks), so its memory follows recent logouts, not a month of them.
        self._session_horizon = session_horizon_seconds
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._families: dict[str, float] = {}
        self._in_sync = False
        self._synced = False  # got in sync since the last (re)connect

    @property
    def in_sync(self) -> bool:
        return self._in_sync

    def is_revoked(self, token_id: str, family_id: str) -> bool | None:
        """None while the mirror cannot be trusted: ask Redis."""
        if not self._in_sync:
            return None
        now = self._clock()
        return self._tokens.get(token_id, 0.0) > now or self._families.get(family_id, 0.0) > now

    async def close(self) -> None:
        """After `run_forever` was cancelled: closes the mirror's own Redis client."""
        await self._client.aclose()

    async def run_forever(self) -> None:
        failures = 0  # attempts in a row that never got in sync: how long to wait
        reported = False  # this outage is in the log already: one warning each, not one per try
        while True:
            self._synced = False
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._synced or not reported:
                    log.warning("revocation mirror lost (calls check Redis meanwhile): %s", exc)
                reported = True
            failures = 0 if self._synced else failures + 1
            await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])

    async def _follow(self) -> None:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            confirmation = await pubsub.get_message(timeout=IDLE_PING_SECONDS)
            if confirmation is None or confirmation["type"] != "subscribe":
                raise ConnectionError("no subscription confirmation from redis")
            self._tokens, self._families = await self._load()
            self._in_sync = self._synced = True
            log.info(
                "revocation mirror in sync",
                extra={"tokens": len(self._tokens), "sessions": len(self._families)},
            )
            await self._apply_messages(pubsub)
        finally:
            self._in_sync = False
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _apply_messages(self, pubsub: aioredis.client.PubSub) -> None:
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=IDLE_PING_SECONDS)
            if message is None:
                if pinged:
                    raise ConnectionError("redis stopped answering the subscription")
                await pubsub.ping()
                pinged = True
                self._forget_expired()
                continue
            pinged = False
            if message["type"] == "pong":
                continue
            if message["type"] != "message":
                # A resubscription means the connection was replaced: messages may be missing.
                raise ConnectionError(f"subscription changed ({message['type']})")
            revocation = Revocation.decode(message["data"])
            self._tokens.update(revocation.tokens)
            horizon = self._clock() + self._session_horizon
            self._families.update((k, min(v, horizon)) for k, v in revocation.families.items())
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.rpush(revocation.ack_key, "1")
                pipe.expire(revocation.ack_key, 60)
                await pipe.execute()

    async def _load(self) -> tuple[dict[str, float], dict[str, float]]:
        """Every revocation in Redis, with when it expires."""
        found: list[dict[str, float]] = []
        for prefix in (TOKEN_KEY_PREFIX, FAMILY_KEY_PREFIX):
            keys = [
                key async for key in self._client.scan_iter(match=prefix + "*", count=_SCAN_BATCH)
            ]
            expiries: dict[str, float] = {}
            for start in range(0, len(keys), _SCAN_BATCH):
                batch = keys[start : start + _SCAN_BATCH]
                async with self._client.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.pttl(key)
                    lefts = await pipe.execute()
                now = self._clock()
                horizon = now + self._session_horizon if prefix == FAMILY_KEY_PREFIX else math.inf
                for key, left in zip(batch, lefts, strict=True):
                    name = key.decode() if isinstance(key, bytes) else str(key)
                    if left == -1:  # no expiry: revoked for good
                        expiries[name[len(prefix) :]] = horizon
                    elif left >= 0:  # -2: expired between SCAN and PTTL
                        expiries[name[len(prefix) :]] = min(now + left / 1000, horizon)
            found.append(expiries)
        return found[0], found[1]

    def _forget_expired(self) -> None:
        now = self._clock()
        for known in (self._tokens, self._families):
            for name in [name for name, expires in known.items() if expires <= now]:
                del known[name]
