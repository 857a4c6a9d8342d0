"""SqliteInsightStore: the embedded default. One WAL-mode file; aiosqlite keeps it off the loop."""

from __future__ import annotations

import json
import pathlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from services.common.clock import from_micros, to_micros, utc_now
from services.common.errors import AlreadyExists
from services.common.sqlite_db import SqliteDatabase
from services.insight.domain.models import (
    AudioInfo,
    Entity,
    Insight,
    InsightFilter,
    InsightPage,
    NewAccount,
    PageCursor,
    Source,
    Status,
    User,
)
from services.insight.store.sqlite_schema import MIGRATIONS

_INSIGHT_COLUMNS = (
    "id, owner_id, text, tags_json, source, status, status_reason, language, entities_json, "
    "keywords_json, theme, theme_confidence, theme_set_by_person, audio_format, audio_size_bytes, "
    "audio_duration_seconds, version, create_us, update_us"
)

# Every column but id and owner_id, for UPDATE ... SET.
_ASSIGNMENTS = ", ".join(f"{name.strip()} = ?" for name in _INSIGHT_COLUMNS.split(",")[2:])


def _insight_row(insight: Insight) -> tuple[Any, ...]:
    audio = insight.audio
    return (
        insight.id,
        insight.owner_id,
        insight.text,
        json.dumps(list(insight.tags)),
        insight.source.value,
        insight.status.value,
        insight.status_reason,
        insight.language,
        json.dumps([[e.text, e.label] for e in insight.entities]),
        json.dumps(list(insight.keywords)),
        insight.theme,
        insight.theme_confidence,
        int(insight.theme_set_by_person),
        audio.format if audio else None,
        audio.size_bytes if audio else None,
        audio.duration_seconds if audio else None,
        insight.version,
        to_micros(insight.create_time),
        to_micros(insight.update_time),
    )


# By stored value: a dict lookup, where Source(value) runs the Enum machinery in Python.
_SOURCES = {source.value: source for source in Source}
_STATUSES = {status.value: status for status in Status}


def _insight_from_row(row: sqlite3.Row) -> Insight:
    audio = None
    if row["audio_format"] is not None:
        audio = AudioInfo(
            format=row["audio_format"],
            size_bytes=row["audio_size_bytes"] or 0,
            duration_seconds=row["audio_duration_seconds"] or 0.0,
        )
    return Insight(
        id=row["id"],
        owner_id=row["owner_id"],
        text=row["text"],
        tags=tuple(json.loads(row["tags_json"])),
        source=_SOURCES[row["source"]],
        status=_STATUSES[row["status"]],
        status_reason=row["status_reason"],
        language=row["language"],
        entities=tuple(Entity(text, label) for text, label in json.loads(row["entities_json"])),
        keywords=tuple(json.loads(row["keywords_json"])),
        theme=row["theme"],
        theme_confidence=row["theme_confidence"],
        theme_set_by_person=bool(row["theme_set_by_person"]),
        audio=audio,
        version=row["version"],
        create_time=from_micros(row["create_us"]),
        update_time=from_micros(row["update_us"]),
    )


def _where(owner_id: str, where: InsightFilter) -> tuple[str, list[Any]]:
    clauses = ["owner_id = ?"]
    params: list[Any] = [owner_id]
    if where.tag:
        clauses.append(
            "EXISTS (SELECT 1 FROM insight_tags t WHERE t.insight_id = insights.id "
            "AND t.owner_id = ? AND t.tag = ?)"
        )
        params += [owner_id, where.tag]
    if where.theme:
        clauses.append("theme = ?")
        params.append(where.theme)
    if where.status is not None:
        clauses.append("status = ?")
        params.append(where.status.value)
    if where.source is not None:
        clauses.append("source = ?")
        params.append(where.source.value)
    if where.created_after is not None:
        clauses.append("create_us >= ?")
        params.append(to_micros(where.created_after))
    if where.created_before is not None:
        clauses.append("create_us < ?")
        params.append(to_micros(where.created_before))
    words = where.query.casefold().split()
    if words:
        # instr() matches the word literally (no LIKE wildcards to escape); casefold() is Python's,
        # registered on the connection, because SQLite's lower() folds ASCII only.
        has_words = " AND ".join(["instr(casefold(text), ?) > 0"] * len(words))
        params += words
        if where.meaning_matches:
            close = sorted(where.meaning_matches)
            clauses.append(f"(({has_words}) OR id IN ({', '.join(['?'] * len(close))}))")
            params += close
        else:
            clauses.append(f"({has_words})")
    return " AND ".join(clauses), params


def _casefold(text: str | None) -> str | None:
    return text.casefold() if text is not None else None


class SqliteInsightStore:
    def __init__(self, path: pathlib.Path) -> None:
        self._database = SqliteDatabase(
            path, MIGRATIONS, "insight store", functions={"casefold": _casefold}
        )

    @property
    def _reader(self) -> aiosqlite.Connection:
        return self._database.reader

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._database.transaction() as tx:
            yield tx.db

    async def open(self) -> None:
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    async def add_user(self, account: NewAccount) -> User:
        try:
            async with self._transaction() as db:
                await db.execute(
                    "INSERT INTO users (id, email, password_hash, display_name, create_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        account.id,
                        account.email,
                        account.password_hash,
                        account.display_name,
                        to_micros(account.create_time),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists("this email is already registered") from exc
        return User(account.id, account.email, account.display_name, account.create_time)

    async def find_credentials(self, email: str) -> tuple[User, str] | None:
        rows = await self._database.point_read(
            "SELECT id, email, display_name, create_us, password_hash FROM users WHERE email = ?",
            (email,),
        )
        if not rows:
            return None
        row = rows[0]
        user = User(row["id"], row["email"], row["display_name"], from_micros(row["create_us"]))
        return user, row["password_hash"]

    async def add_insight(self, insight: Insight, audio: bytes | None = None) -> None:
        async with self._transaction() as db:
            await db.execute(
                f"INSERT INTO insights ({_INSIGHT_COLUMNS}) VALUES ({', '.join('?' * 19)})",
                _insight_row(insight),
            )
            await self._write_tags(db, insight)
            if audio is not None:
                await db.execute("INSERT INTO insight_audio VALUES (?, ?)", (insight.id, audio))

    @staticmethod
    async def _write_tags(db: aiosqlite.Connection, insight: Insight) -> None:
        await db.execute("DELETE FROM insight_tags WHERE insight_id = ?", (insight.id,))
        await db.executemany(
            "INSERT INTO insight_tags (insight_id, owner_id, tag) VALUES (?, ?, ?)",
            [(insight.id, insight.owner_id, tag) for tag in insight.tags],
        )

    # Lookups by primary key run on the event loop (SqliteDatabase.point_read): the hop to
    # aiosqlite's thread and back cost more than the read itself on the hot GET path.
    async def get_insight(self, owner_id: str, insight_id: str) -> Insight | None:
        rows = await self._database.point_read(
            f"SELECT {_INSIGHT_COLUMNS} FROM insights WHERE id = ? AND owner_id = ?",
            (insight_id, owner_id),
        )
        return _insight_from_row(rows[0]) if rows else None

    async def get_insight_any_owner(self, insight_id: str) -> Insight | None:
        rows = await self._database.point_read(
            f"SELECT {_INSIGHT_COLUMNS} FROM insights WHERE id = ?", (insight_id,)
        )
        return _insight_from_row(rows[0]) if rows else None

    async def get_audio(self, insight_id: str) -> bytes | None:
        # Up to 25 MB: read on the reader's thread, never on the event loop.
        async with self._reader.execute(
            "SELECT data FROM insight_audio WHERE insight_id = ?", (insight_id,)
        ) as cur:
            row = await cur.fetchone()
        return bytes(row["data"]) if row else None

    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage:
        condition, params = _where(owner_id, where)
        count_rows = await self._reader.execute_fetchall(
            f"SELECT COUNT(*) FROM insights WHERE {condition}", params
        )
        total = int(next(iter(count_rows))[0]) if count_rows else 0
        page_condition, page_params = condition, list(params)
        if after is not None:
            page_condition += " AND (create_us < ? OR (create_us = ? AND id < ?))"
            after_us = to_micros(after.create_time)
            page_params += [after_us, after_us, after.insight_id]
        rows = list(
            await self._reader.execute_fetchall(
                f"SELECT {_INSIGHT_COLUMNS} FROM insights WHERE {page_condition} "
                "ORDER BY create_us DESC, id DESC LIMIT ?",
                [*page_params, page_size + 1],
            )
        )
        insights = [_insight_from_row(row) for row in rows[:page_size]]
        next_cursor = None
        if len(rows) > page_size:
            last = insights[-1]
            next_cursor = PageCursor(last.create_time, last.id)
        return InsightPage(insights=insights, next_cursor=next_cursor, total_size=total)

    async def replace_insight(self, insight: Insight, expected_version: int) -> bool:
        row = _insight_row(insight)
        async with self._transaction() as db:
            cur = await db.execute(
                f"UPDATE insights SET {_ASSIGNMENTS} WHERE id = ? AND owner_id = ? AND version = ?",
                (*row[2:], insight.id, insight.owner_id, expected_version),
            )
            changed = cur.rowcount == 1
            if changed:
                await self._write_tags(db, insight)
        return changed

    async def delete_insight(self, owner_id: str, insight_id: str) -> bool:
        async with self._transaction() as db:
            cur = await db.execute(
                "DELETE FROM insights WHERE id = ? AND owner_id = ?", (insight_id, owner_id)
            )
            if cur.rowcount == 1:
                await db.execute(
                    "INSERT OR REPLACE INTO graph_removals VALUES (?, ?, ?)",
                    (insight_id, owner_id, to_micros(utc_now())),
                )
        return cur.rowcount == 1

    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        async with self._reader.execute(
            "SELECT insight_id, owner_id FROM graph_removals ORDER BY create_us LIMIT ?", (limit,)
        ) as cur:
            rows = await cur.fetchall()
        return [(row["insight_id"], row["owner_id"]) for row in rows]

    async def forget_graph_removal(self, insight_id: str) -> None:
        async with self._transaction() as db:
            await db.execute("DELETE FROM graph_removals WHERE insight_id = ?", (insight_id,))

    async def list_stale(self, updated_before_us: int, limit: int) -> list[tuple[str, int]]:
        async with self._reader.execute(
            "SELECT id, version FROM insights WHERE status IN ('PENDING', 'PROCESSING') "
            "AND update_us < ? ORDER BY update_us LIMIT ?",
            (updated_before_us, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [(row["id"], row["version"]) for row in rows]
