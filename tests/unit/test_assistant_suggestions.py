"""Suggester with in-memory fakes: what is suggested, caching and its invalidation, rejections,
validation, and feedback."""

from __future__ import annotations

import datetime as dt

import pytest

from services.assistant.domain import cache_keys
from services.assistant.domain.feedback import FeedbackRecorder
from services.assistant.domain.models import InsightInfo, SuggestionKind, SuggestionRequest
from services.assistant.domain.stats import StatsReporter
from services.assistant.domain.suggestions import Suggester
from services.common.errors import InvalidArgument, NotFound
from tests.unit.test_assistant_fakes import (
    FakeAnalyzer,
    FakeIndex,
    FakeInsights,
    FakeRegistry,
    FakeVersions,
    MemoryCache,
    MemoryStore,
)

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
RUST = [
    ("r1", "rust ownership makes threads safe without locks", 2, ("rust",)),
    ("r2", "rust channels send data between threads safely", 40, ("rust", "concurrency")),
    ("r3", "rust async tasks and threads for concurrency", 1, ("rust", "async")),
]
OTHER = [("g1", "tomatoes need sun and water in the garden", 1, ("garden",))]


class World:
    def __init__(self) -> None:
        self.insights = FakeInsights()
        for id_, text, days, tags in RUST + OTHER:
            self.insights.add(
                "ann", InsightInfo(id_, text, tags, "", NOW - dt.timedelta(days=days))
            )
        self.insights.add("bob", InsightInfo("b1", "rust threads", (), "", NOW))
        self.index = FakeIndex(self.insights)
        self.analyzer = FakeAnalyzer(theme="Rust", confidence=0.9)
        self.store = MemoryStore()
        self.cache = MemoryCache()
        self.versions = FakeVersions()
        self.models = FakeRegistry()
        self.suggester = Suggester(
            self.insights,
            self.index,
            self.analyzer,
            self.store,
            self.cache,
            self.versions,
            self.models,
            now=lambda: NOW,
        )
        self.feedback = FeedbackRecorder(self.store, self.insights, now=lambda: NOW)


def ask(context: str = "", insight_id: str = "", limit: int = 0) -> SuggestionRequest:
    return SuggestionRequest(context, insight_id, limit)


async def test_context_about_rust_threads_suggests_rust_insights_first() -> None:
    w = World()
    found = await w.suggester.suggest("ann", ask("safe threads in rust"))
    kinds = [s.kind for s in found]
    assert {s.target for s in found if s.kind.about_insight} == {"r1", "r2", "r3"}
    assert kinds[:3].count(SuggestionKind.RESURFACE) == 1  # r2 is 40 days old
    assert next(s for s in found if s.target == "r2").reason.startswith("you wrote this 5 weeks")
    assert ("TAG", "rust") in {(s.kind.value, s.value) for s in found}
    theme = next(s for s in found if s.kind is SuggestionKind.THEME)
    assert theme.value == "Rust" and "0.90" in theme.reason
    assert w.analyzer.analyzed == [("ann", "safe threads in rust")]  # the owner's own model
    assert "b1" not in {s.target for s in found}  # never another person's insight


async def test_viewed_insight_is_the_query_and_is_left_out() -> None:
    w = World()
    found = await w.suggester.suggest("ann", ask(insight_id="r1"))
    targets = [s.target for s in found]
    assert "r1" not in targets and "r3" in targets
    assert all(s.kind is not SuggestionKind.THEME for s in found)
    related = next(s for s in found if s.target == "r3")
    assert related.reason.startswith("similar to the insight you are looking at (")
    tags = {s.value for s in found if s.kind is SuggestionKind.TAG}
    assert "rust" not in tags  # the viewed insight already has it
    with pytest.raises(NotFound):
        await w.suggester.suggest("ann", ask(insight_id="b1"))


async def test_requests_are_validated() -> None:
    w = World()
    for request, field in [
        (ask(), "context"),
        (ask("   "), "context"),
        (ask("x" * 20_001), "context"),
        (ask("rust", limit=51), "limit"),
        (ask("rust", limit=-1), "limit"),
    ]:
        with pytest.raises(InvalidArgument) as caught:
            await w.suggester.suggest("ann", request)
        assert caught.value.violations[0].field == field
    assert len(await w.suggester.suggest("ann", ask("rust threads", limit=2))) == 2


def suggestion_entries(w: World) -> list[str]:
    return [key for key in w.cache.entries if ":suggestions:" in key]


async def test_answers_are_cached_until_the_insights_change() -> None:
    w = World()
    first = await w.suggester.suggest("ann", ask("rust threads"))
    queries = w.index.queries
    assert await w.suggester.suggest("ann", ask("rust threads")) == first
    assert w.index.queries == queries  # served from the cache
    (key,) = suggestion_entries(w)
    assert key == cache_keys.suggestions_key("ann", 0, 0, ask("rust threads", limit=10))
    assert w.cache.ttls[key] == cache_keys.SUGGESTIONS_TTL_SECONDS
    w.versions.versions["ann"] = 1  # the insight service bumped the change feed
    await w.suggester.suggest("ann", ask("rust threads"))
    assert w.index.queries == queries + 1
    w.versions.versions["ann"] = None  # Redis unreachable: computed, not cached
    await w.suggester.suggest("ann", ask("rust threads"))
    assert w.index.queries == queries + 2 and len(suggestion_entries(w)) == 2


async def test_rejected_suggestions_are_never_repeated() -> None:
    w = World()
    first = await w.suggester.suggest("ann", ask("safe threads in rust"))
    tag = next(s for s in first if s.kind is SuggestionKind.TAG and s.value == "rust")
    related = next(s for s in first if s.kind.about_insight)
    await w.feedback.record("ann", "", tag.id, accepted=False)
    await w.feedback.record("ann", related.target, related.id, accepted=False)
    again = await w.suggester.suggest("ann", ask("safe threads in rust"))  # new cache key
    assert tag.id not in {s.id for s in again}
    assert related.target not in {s.target for s in again}
    await w.feedback.record("ann", "r3", "", accepted=False)  # a verdict on an insight alone
    assert "r3" not in {s.target for s in await w.suggester.suggest("ann", ask("rust async"))}
    assert [f.accepted for _, f in w.store.feedback] == [False, False, False]
    assert w.store.feedback[0][1].kind == "TAG" and w.store.feedback[0][1].target == "rust"


async def test_feedback_needs_a_known_reference() -> None:
    w = World()
    with pytest.raises(InvalidArgument) as caught:
        await w.feedback.record("ann", "", "", accepted=True)
    assert caught.value.violations[0].field == "suggestion"
    with pytest.raises(InvalidArgument):
        await w.feedback.record("ann", "", "no-such-suggestion", accepted=True)
    found = await w.suggester.suggest("ann", ask("rust threads"))
    with pytest.raises(InvalidArgument):  # Bob cannot quote Ann's suggestion
        await w.feedback.record("bob", "", found[0].id, accepted=True)
    with pytest.raises(InvalidArgument):
        await w.feedback.record("ann", "g1", found[0].id, accepted=True)
    with pytest.raises(NotFound):
        await w.feedback.record("ann", "b1", "", accepted=True)
    stored = await w.feedback.record("ann", found[0].target, found[0].id, accepted=True)
    assert stored.accepted and stored.suggestion_id == found[0].id


async def test_stats_combine_both_services_and_are_cached() -> None:
    w = World()
    reporter = StatsReporter(w.insights, w.index, w.cache, w.versions)
    stats = await reporter.report("ann")
    assert stats.insights.total == 4
    assert [(c.key, c.count) for c in stats.relationships_by_type] == [
        ("SEMANTIC", 2),
        ("MANUAL", 1),
    ]
    w.insights.insights["ann"].clear()
    assert await reporter.report("ann") == stats  # cached
    w.versions.versions["ann"] = 7
    assert (await reporter.report("ann")).insights.total == 0
