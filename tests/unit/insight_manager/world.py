"""The world of InsightManager's unit tests: an in-memory store, queue and change feed, their
and the sample data the tests share; conftest.py makes fixtures of them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import wave

from services.common.errors import (
    AlreadyExists,
)
from services.insight.domain.models import (
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

ALICE = "alice"
BOB = "bob"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


class FakeStore:
    """An in-memory InsightStore with just enough behaviour for the manager's logic."""

    def __init__(self) -> None:
        self.insights: dict[str, Insight] = {}
        self.audio: dict[str, bytes] = {}
        self.users: dict[str, tuple[User, str]] = {}
        self.replace_calls = 0
        # Each entry simulates another writer bumping the version just before a replace.
        self.concurrent_writes = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def add_user(self, account: NewAccount) -> User:
        if account.email in self.users:
            raise AlreadyExists("this email is already registered")
        user = User(account.id, account.email, account.display_name, account.create_time)
        self.users[account.email] = (user, account.password_hash)
        return user

    async def find_credentials(self, email: str) -> tuple[User, str] | None:
        return self.users.get(email)

    async def add_insight(self, insight: Insight, audio: bytes | None = None) -> None:
        assert insight.id not in self.insights
        self.insights[insight.id] = insight
        if audio is not None:
            self.audio[insight.id] = audio

    async def get_insight(self, owner_id: str, insight_id: str) -> Insight | None:
        insight = self.insights.get(insight_id)
        return insight if insight is not None and insight.owner_id == owner_id else None

    async def get_insight_any_owner(self, insight_id: str) -> Insight | None:
        return self.insights.get(insight_id)

    async def get_audio(self, insight_id: str) -> bytes | None:
        return self.audio.get(insight_id)

    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage:
        mine = sorted(
            (i for i in self.insights.values() if i.owner_id == owner_id),
            key=lambda i: (i.create_time, i.id),
            reverse=True,
        )
        if where.tag:
            mine = [i for i in mine if where.tag in i.tags]
        total = len(mine)
        if after is not None:
            mine = [
                i for i in mine if (i.create_time, i.id) < (after.create_time, after.insight_id)
            ]
        page = mine[:page_size]
        cursor = PageCursor(page[-1].create_time, page[-1].id) if len(mine) > page_size else None
        return InsightPage(insights=page, next_cursor=cursor, total_size=total)

    async def replace_insight(self, insight: Insight, expected_version: int) -> bool:
        self.replace_calls += 1
        stored = self.insights.get(insight.id)
        if self.concurrent_writes and stored is not None:
            self.concurrent_writes -= 1
            stored = dataclasses.replace(stored, version=stored.version + 1)
            self.insights[insight.id] = stored
        if stored is None or stored.owner_id != insight.owner_id:
            return False
        if stored.version != expected_version:
            return False
        self.insights[insight.id] = insight
        return True

    async def delete_insight(self, owner_id: str, insight_id: str) -> bool:
        if await self.get_insight(owner_id, insight_id) is None:
            return False
        del self.insights[insight_id]
        self.audio.pop(insight_id, None)
        return True

    async def list_stale(self, updated_before_us: int, limit: int) -> list[tuple[str, int]]:
        return []

    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        return []

    async def forget_graph_removal(self, insight_id: str) -> None:
        return None


class FakeQueue:
    def __init__(self, error: Exception | None = None) -> None:
        self.queued: list[tuple[str, int]] = []
        self.error = error

    async def enqueue_processing(self, insight_id: str, version: int) -> None:
        if self.error is not None:
            raise self.error
        self.queued.append((insight_id, version))


class FakeChanges:
    def __init__(self) -> None:
        self.bumped: list[str] = []

    async def bump(self, owner_id: str) -> None:
        self.bumped.append(owner_id)


def enriched(insight_id: str = "e-1", **fields: object) -> Insight:
    """An insight the pipeline has finished with, as the store would hold it."""
    base = Insight(
        id=insight_id,
        owner_id=ALICE,
        text="Apple opens a lab in Berlin",
        tags=("work", "berlin"),
        source=Source.TEXT,
        status=Status.READY,
        version=3,
        create_time=T0,
        update_time=T0,
        status_reason="done",
        language="en",
        entities=(Entity("Apple", "ORG"), Entity("Berlin", "GPE")),
        keywords=("lab", "berlin"),
        theme="Research",
        theme_confidence=0.7,
        theme_set_by_person=False,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def make_wav(frames: int, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x01" * frames)
    return buffer.getvalue()
