"""A pipelined Redis connection for the commands every authenticated call sends (the admission
script: revocation check + per-person rate count).

redis-py's asyncio client spends ~0.4 ms of CPU per command (pool, retry wrapper, stream reader):
a quarter of the insight service's CPU on GET /insights/{id}. This keeps one connection and
matches replies to calls in order (Redis answers a connection's commands in the order sent), so
concurrent calls share it without a lock. Commands sent in one turn of the event loop go out in
one write, and one watchdog per connection (not a timer per call) fails the calls when Redis
stops answering.

Only integer, simple-string, error and arrays-of-integer replies are understood: EVAL of a script
returning integers, AUTH and SELECT need no more. A lost connection or a late reply fails
the calls waiting on it (ConnectionError) and the next call connects again, so Redis being down
surfaces exactly as with redis-py.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import cast
from urllib.parse import unquote, urlsplit

CONNECT_TIMEOUT_SECONDS = 2.0
Reply = int | list[int]
REPLY_TIMEOUT_SECONDS = 5.0


def _command(*parts: str) -> bytes:
    encoded = [p.encode() for p in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in encoded)


class _Replies(asyncio.Protocol):
    def __init__(self, reply_timeout: float = REPLY_TIMEOUT_SECONDS) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[asyncio.Future[Reply]] = collections.deque()
        self._sent_at: collections.deque[float] = collections.deque()  # one per waiting reply
        self._outgoing: list[bytes] = []
        self._reply_timeout = reply_timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self._buffer = b""
        self._array: list[int] | None = None  # an array reply being read, element by element
        self._array_left = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection's transport; uvloop's does not subclass asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("redis connection closed")
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Reply] = loop.create_future()
        self.waiting.append(reply)
        self._sent_at.append(time.monotonic())
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(command)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._reply_timeout / 4, self._watch)
        return reply

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(outgoing))

    def _watch(self) -> None:
        """Fails every waiting call once the oldest has waited longer than the reply timeout: a
        Redis that stopped answering (frozen, or the network gone) would otherwise hold them."""
        self._watchdog = None
        if not self._sent_at:
            return
        if time.monotonic() - self._sent_at[0] > self._reply_timeout:
            self.close(ConnectionError("redis reply timed out"))
            return
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self._reply_timeout / 4, self._watch)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n")) >= 0:
            line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            kind = line[:1]
            if not self.waiting or kind not in (b":", b"+", b"-", b"*"):
                self.close(ConnectionError(f"unexpected redis reply {line[:40]!r}"))
                return
            if self._array is not None:  # an element of the array being read
                if kind != b":":
                    self.close(ConnectionError(f"unexpected redis array element {line[:40]!r}"))
                    return
                self._array.append(int(line[1:]))
                self._array_left -= 1
                if self._array_left == 0:
                    self._resolve(self._array)
                continue
            if kind == b"*":
                self._array, self._array_left = [], int(line[1:])
                if self._array_left <= 0:
                    self._resolve([])
            elif kind == b":":
                self._resolve(int(line[1:]))
            elif kind == b"+":
                self._resolve(0)
            else:
                self._resolve(ConnectionError(line[1:].decode(errors="replace")))

    def _resolve(self, value: Reply | Exception) -> None:
        self._array = None
        reply = self.waiting.popleft()
        self._sent_at.popleft()
        if reply.done():  # its caller gave up (timeout); the reply still had to be consumed
            return
        if isinstance(value, Exception):
            reply.set_exception(value)
        else:
            reply.set_result(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(ConnectionError(f"redis connection lost: {exc or 'closed'}"))

    def close(self, error: Exception) -> None:
        self._sent_at.clear()
        self._outgoing.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self.waiting:
            reply = self.waiting.popleft()
            if not reply.done():
                reply.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class PipelinedRedis:
    """EVAL of scripts answering integers, over one pipelined connection."""

    def __init__(self, url: str, reply_timeout: float = REPLY_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"PipelinedRedis speaks plain redis:// only, not {parts.scheme}://")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._username = unquote(parts.username or "")
        self._password = unquote(parts.password or "")
        self._db = int(parts.path.lstrip("/") or 0)
        self._reply_timeout = reply_timeout
        self._replies: _Replies | None = None
        self._connecting = asyncio.Lock()

    def _open(self) -> _Replies | None:
        replies = self._replies
        if replies is None or replies.transport is None or replies.transport.is_closing():
            return None
        return replies

    async def _connection(self) -> _Replies:
        replies = self._open()
        if replies is not None:
            return replies
        async with self._connecting:
            replies = self._open()
            if replies is None:
                replies = self._replies = await self._connect()
            return replies

    async def _connect(self) -> _Replies:
        loop = asyncio.get_running_loop()
        _, replies = await asyncio.wait_for(
            loop.create_connection(lambda: _Replies(self._reply_timeout), self._host, self._port),
            CONNECT_TIMEOUT_SECONDS,
        )
        setup = []
        if self._password:
            auth = [self._username, self._password] if self._username else [self._password]
            setup.append(replies.send(_command("AUTH", *auth)))
        if self._db:
            setup.append(replies.send(_command("SELECT", str(self._db))))
        try:
            for reply in setup:
                await reply
        except BaseException:
            replies.close(ConnectionError("redis connection set-up failed"))
            raise
        return replies

    async def _call(self, command: bytes) -> Reply:
        replies = await self._connection()
        # No timer of its own: the connection's watchdog fails it if Redis stops answering, and
        # a caller that is cancelled leaves its reply to be consumed and dropped.
        return await replies.send(command)

    async def eval_ints(self, script: str, keys: list[str], args: list[str]) -> list[int]:
        """Runs a Lua script that returns an array of integers. EVAL, not EVALSHA: Redis looks
        the body up in its script cache, and there is no NOSCRIPT round trip after a restart."""
        answer = await self._call(_command("EVAL", script, str(len(keys)), *keys, *args))
        if not isinstance(answer, list):
            raise ConnectionError(f"script answered {answer!r}, not an array")
        return answer

    async def close(self) -> None:
        if self._replies is not None:
            self._replies.close(ConnectionError("closed"))
            self._replies = None
