"""One SQLite file in WAL mode: a writer connection behind a lock, a separate reader, and a
point reader for indexed single-row lookups on the event loop itself.

Every embedded store (insight, graph) opens its file through this, so they share one
discipline: migrations applied once, FULL sync, one write transaction at a time, reads that
never see uncommitted data.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import aiosqlite

from services.common.errors import Unavailable

log = logging.getLogger(__name__)
# How long a point read may wait for a lock on the event loop before it moves to the reader's
# thread. In WAL mode a reader waits only in rare moments (another connection recovering the
# WAL after a crash), so this is almost never spent.
POINT_READ_BUSY_MS = 20
_LOCK_WAITS = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}  # primary result codes


class SqliteDatabase:
    def __init__(
        self,
        path: pathlib.Path,
        migrations: Sequence[str],
        what: str,
        functions: Mapping[str, Callable[[str | None], str | None]] | None = None,
    ) -> None:
        self._path = path
        self._migrations = migrations
        self._what = what
        self._functions = dict(functions or {})  # SQL functions implemented in Python
        self._db: aiosqlite.Connection | None = None
        self._read_db: aiosqlite.Connection | None = None
        self._point_db: sqlite3.Connection | None = None
        # Every write runs in a transaction of its own, one at a time, so a statement can never
        # land inside (and roll back with) another call's transaction.
        self._write_lock = asyncio.Lock()

    @property
    def reader(self) -> aiosqlite.Connection:
        """Sees committed data only (WAL), never the inside of a write in flight."""
        if self._read_db is None:
            raise Unavailable(f"{self._what} is not open")
        return self._read_db

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged write survives a power cut, not just a process crash.
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.execute("PRAGMA foreign_keys=ON")
        for name, function in self._functions.items():
            await db.create_function(name, 1, function, deterministic=True)
        return db

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = await self._connect()
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
        )
        async with db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        applied = int(row[0]) if row else 0
        for version, script in enumerate(self._migrations, start=1):
            if version > applied:
                await db.executescript(
                    f"BEGIN; {script}; INSERT INTO schema_migrations VALUES ({version}); COMMIT;"
                )
        self._db = db
        self._read_db = await self._connect()
        self._point_db = self._connect_point_reader()

    def _connect_point_reader(self) -> sqlite3.Connection:
        point = sqlite3.connect(self._path, isolation_level=None)
        point.row_factory = sqlite3.Row
        point.execute(f"PRAGMA busy_timeout={POINT_READ_BUSY_MS}")
        point.execute("PRAGMA query_only=ON")
        for name, function in self._functions.items():
            point.create_function(name, 1, function, deterministic=True)
        return point

    async def point_read(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        """A lookup by primary key or unique index, run on the event loop: such a read takes
        tens of microseconds from the page cache, less than the hop to the reader's thread and
        back (which was most of the cost of GET /insights/{id}). Only for queries that touch a
        handful of rows; a lock not free within POINT_READ_BUSY_MS sends the read to the reader's
        thread."""
        if self._point_db is None:
            raise Unavailable(f"{self._what} is not open")
        try:
            return self._point_db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF not in _LOCK_WAITS:
                raise
            log.warning("point read deferred to the reader thread", extra={"error": str(error)})
        return list(await self.reader.execute_fetchall(sql, params))

    async def close(self) -> None:
        for db in (self._read_db, self._db):
            if db is not None:
                await db.close()
        if self._point_db is not None:
            self._point_db.close()
        self._db = self._read_db = self._point_db = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction; its after-commit hooks run once it committed, still under the
        write lock, so in-memory state follows the commits in their order."""
        async with self._write_lock:
            if self._db is None:
                raise Unavailable(f"{self._what} is not open")
            tx = Transaction(self._db)
            await tx.db.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                await tx.db.execute("ROLLBACK")
                raise
            await tx.db.execute("COMMIT")
            for hook in tx.hooks:
                await hook()


class Transaction:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.hooks: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        self.hooks.append(hook)


def placeholders(count: int) -> str:
    return ", ".join("?" * count)
