"""InsightManager's search by meaning: who is asked, what the store is told, and what a failure
does. The store adapters' side (words OR close in meaning) is in tests/contract."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import InvalidArgument, Unavailable
from services.insight.domain.insights import InsightManager
from services.insight.domain.models import InsightFilter, InsightPage, PageCursor
from tests.unit.insight_manager.world import (
    ALICE,
    T0,
    FakeChanges,
    FakeQueue,
    FakeStore,
    enriched,
)


class FakeMeanings:
    def __init__(self, close: frozenset[str] = frozenset()) -> None:
        self.close = close
        self.error: Exception | None = None
        self.asked: list[tuple[str, str]] = []

    async def close_in_meaning(self, owner_id: str, query: str) -> frozenset[str]:
        self.asked.append((owner_id, query))
        if self.error is not None:
            raise self.error
        return self.close


class RecordingStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[InsightFilter] = []

    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage:
        self.asked.append(where)
        return await super().list_insights(owner_id, where, page_size, after)


@pytest.fixture()
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture()
def meanings() -> FakeMeanings:
    return FakeMeanings(frozenset({"e-1", "e-2"}))


@pytest.fixture()
def searcher(store: RecordingStore, meanings: FakeMeanings) -> InsightManager:
    return InsightManager(store, FakeQueue(), FakeChanges(), meanings=meanings)


async def test_a_query_asks_for_insights_close_in_meaning_and_the_store_gets_them(
    searcher: InsightManager, store: RecordingStore, meanings: FakeMeanings
) -> None:
    await searcher.list(ALICE, InsightFilter(query="bread baking", tag="food"), 10, "")

    assert meanings.asked == [(ALICE, "bread baking")]
    assert store.asked == [
        InsightFilter(query="bread baking", tag="food", meaning_matches=frozenset({"e-1", "e-2"}))
    ]


@pytest.mark.parametrize("query", ["", "   "])
async def test_no_query_asks_nobody(
    searcher: InsightManager, store: RecordingStore, meanings: FakeMeanings, query: str
) -> None:
    await searcher.list(ALICE, InsightFilter(query=query), 10, "")

    assert meanings.asked == []
    assert store.asked[0].meaning_matches == frozenset()


async def test_a_page_token_stays_valid_when_the_close_insights_change(
    searcher: InsightManager, store: RecordingStore, meanings: FakeMeanings
) -> None:
    for n in range(3):
        store.insights[f"l{n}"] = enriched(f"l{n}", create_time=T0 + dt.timedelta(seconds=n))
    where = InsightFilter(query="lab")
    _, token = await searcher.list(ALICE, where, 2, "")
    meanings.close = frozenset({"l0"})  # a new insight was enriched between the pages

    second, _ = await searcher.list(ALICE, where, 2, token)

    assert [i.id for i in second.insights] == ["l0"]
    assert store.asked[-1].meaning_matches == frozenset({"l0"})


async def test_search_unavailable_is_unavailable_and_the_store_is_not_asked(
    searcher: InsightManager, store: RecordingStore, meanings: FakeMeanings
) -> None:
    meanings.error = Unavailable("the nlp service is unavailable")

    with pytest.raises(Unavailable, match="nlp"):
        await searcher.list(ALICE, InsightFilter(query="bread"), 10, "")
    assert store.asked == []


async def test_bad_arguments_are_reported_before_anyone_is_asked(
    searcher: InsightManager, meanings: FakeMeanings
) -> None:
    with pytest.raises(InvalidArgument, match="query"):
        await searcher.list(ALICE, InsightFilter(query="x" * 501), 0, "")
    assert meanings.asked == []


async def test_without_a_meaning_search_a_query_matches_words_only(
    store: RecordingStore,
) -> None:
    words_only = InsightManager(store, FakeQueue(), FakeChanges())

    await words_only.list(ALICE, InsightFilter(query="bread"), 10, "")

    assert store.asked == [InsightFilter(query="bread")]
