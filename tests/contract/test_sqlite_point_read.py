"""SqliteDatabase.point_read on a real SQLite file: it reads committed rows on the event loop,
refuses writes, and a lock it cannot get at once sends the read to the reader's thread."""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import AsyncIterator

import pytest

from services.common.sqlite_db import SqliteDatabase

MIGRATIONS = ["CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)"]


@pytest.fixture()
async def database(tmp_path: pathlib.Path) -> AsyncIterator[SqliteDatabase]:
    db = SqliteDatabase(tmp_path / "notes.db", MIGRATIONS, "note store")
    await db.open()
    async with db.transaction() as tx:
        await tx.db.execute("INSERT INTO notes VALUES ('a', 'first')")
    yield db
    await db.close()


async def test_point_read_sees_committed_rows_only(database: SqliteDatabase) -> None:
    rows = await database.point_read("SELECT body FROM notes WHERE id = ?", ("a",))
    assert [row["body"] for row in rows] == ["first"]
    assert await database.point_read("SELECT body FROM notes WHERE id = ?", ("b",)) == []
    async with database.transaction() as tx:
        await tx.db.execute("INSERT INTO notes VALUES ('b', 'second')")
        # Inside the write, before its commit: not visible.
        assert await database.point_read("SELECT body FROM notes WHERE id = ?", ("b",)) == []
    rows = await database.point_read("SELECT body FROM notes WHERE id = ?", ("b",))
    assert [row["body"] for row in rows] == ["second"]


async def test_point_read_is_refused_writes(database: SqliteDatabase) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await database.point_read("DELETE FROM notes WHERE id = ?", ("a",))
    rows = await database.point_read("SELECT body FROM notes WHERE id = ?", ("a",))
    assert len(rows) == 1


class _LockedConnection:
    """Answers as SQLite does when another connection holds the lock past the busy timeout (a
    state WAL readers meet only in rare moments, so it is played here)."""

    def execute(self, sql: str, params: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise error


async def test_a_locked_database_moves_the_read_to_the_reader_thread(
    database: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "_point_db", _LockedConnection())
    rows = await database.point_read("SELECT body FROM notes WHERE id = ?", ("a",))
    assert [row["body"] for row in rows] == ["first"]
