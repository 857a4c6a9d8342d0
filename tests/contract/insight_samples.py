"""Sample data of the InsightStore contract suite (the suite's files and the Mongo-only tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.insight.domain.models import (
    AudioInfo,
    Entity,
    Insight,
    InsightFilter,
    NewAccount,
    Source,
    Status,
)
from services.insight.store.port import InsightStore

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
ALICE = "owner-alice"
BOB = "owner-bob"
EVERYTHING = InsightFilter()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def make_insight(
    insight_id: str,
    owner_id: str = ALICE,
    created: dt.datetime = T0,
    **fields: object,
) -> Insight:
    base = Insight(
        id=insight_id,
        owner_id=owner_id,
        text=f"text of {insight_id}",
        tags=(),
        source=Source.TEXT,
        status=Status.PENDING,
        version=1,
        create_time=created,
        update_time=created,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def full_insight(insight_id: str = "full-1", owner_id: str = ALICE) -> Insight:
    return Insight(
        id=insight_id,
        owner_id=owner_id,
        text="Apple is opening a research lab in Berlin — «naïve» 🎉\nsecond line",
        tags=("zeta", "alpha", "mid", "Ünïcode tag"),
        source=Source.AUDIO,
        status=Status.READY,
        version=7,
        create_time=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        update_time=dt.datetime(2026, 1, 2, 3, 4, 6, 1, tzinfo=dt.UTC),
        status_reason="enriched after 2 attempts",
        language="en",
        entities=(Entity("Apple", "ORG"), Entity("Berlin", "GPE"), Entity("Apple", "PRODUCT")),
        keywords=("research lab", "berlin", "apple"),
        theme="Research",
        theme_confidence=0.8125,
        theme_set_by_person=True,
        audio=AudioInfo(format="audio/wav", size_bytes=44_144, duration_seconds=2.5),
    )


def account(user_id: str, email: str) -> NewAccount:
    return NewAccount(
        id=user_id,
        email=email,
        display_name=f"Person {user_id}",
        password_hash=f"$argon2id$hash-of-{user_id}",
        create_time=dt.datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
    )


async def list_ids(
    store: InsightStore, where: InsightFilter = EVERYTHING, owner_id: str = ALICE
) -> list[str]:
    page = await store.list_insights(owner_id, where, 100, None)
    assert page.next_cursor is None
    assert page.total_size == len(page.insights)
    return [insight.id for insight in page.insights]
