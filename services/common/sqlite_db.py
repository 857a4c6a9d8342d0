"""One SQLite file in WAL mode: a writer connection behind a lock and a separate reader.

Every embedded store (insight, graph) opens its file through this, so they share one
discipline: migrations applied once, FULL sync, one write transaction at a time, reads that
never see uncommitted data.
"""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import aiosqlite

from services.common.errors import Unavailable


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

    async def close(self) -> None:
        for db in (self._read_db, self._db):
            if db is not None:
                await db.close()
        self._db = self._read_db = None

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
