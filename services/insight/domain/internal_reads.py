"""Reads other services need about a person's insights: several by id, theme examples, stats.

They page through the store's ordinary owner-scoped listing, so every adapter supports them as
is; a person's whole collection is read for stats (fine at tens of thousands of insights; the
assistant caches the result until the person's insights change).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from services.insight.domain.models import Insight, InsightFilter, PageCursor, Status
from services.insight.store.port import InsightStore

MAX_BATCH = 500
PAGE = 1000
DEFAULT_EXAMPLES = 5000
DEFAULT_TOP = 20


@dataclass(frozen=True)
class InsightStats:
    total: int
    by_status: list[tuple[str, int]]
    by_theme: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    by_tag: list[tuple[str, int]]
    per_day: list[tuple[str, int]]
    top_entities: list[tuple[str, int]]
    latency_ms: dict[int, float] = field(default_factory=dict)  # percentile → milliseconds


def percentile(values: list[float], pct: int) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class InternalReads:
    def __init__(self, store: InsightStore) -> None:
        self._store = store

    async def _all(self, owner_id: str) -> AsyncIterator[Insight]:
        cursor: PageCursor | None = None
        while True:
            page = await self._store.list_insights(owner_id, InsightFilter(), PAGE, cursor)
            for insight in page.insights:
                yield insight
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def batch_get(self, owner_id: str, ids: list[str]) -> list[Insight]:
        found = []
        for insight_id in dict.fromkeys(ids[:MAX_BATCH]):
            insight = await self._store.get_insight(owner_id, insight_id)
            if insight is not None:
                found.append(insight)
        return found

    async def theme_examples(self, owner_id: str, limit: int) -> list[Insight]:
        limit = min(limit or DEFAULT_EXAMPLES, 10_000)
        examples: list[Insight] = []
        async for insight in self._all(owner_id):
            if insight.theme_set_by_person and insight.theme and insight.text:
                examples.append(insight)
                if len(examples) >= limit:
                    break
        return examples

    async def stats(self, owner_id: str, top: int) -> InsightStats:
        top = top or DEFAULT_TOP
        status: Counter[str] = Counter()
        theme: Counter[str] = Counter()
        source: Counter[str] = Counter()
        tags: Counter[str] = Counter()
        days: Counter[str] = Counter()
        entities: Counter[str] = Counter()
        latencies: list[float] = []
        async for insight in self._all(owner_id):
            status[insight.status.value] += 1
            source[insight.source.value] += 1
            if insight.theme:
                theme[insight.theme] += 1
            tags.update(insight.tags)
            days[insight.create_time.strftime("%Y-%m-%d")] += 1
            entities.update({e.text for e in insight.entities})
            # A READY first version has not changed since the pipeline finished it, so its
            # update time is when it became READY.
            if insight.status is Status.READY and insight.version == 1:
                delta = insight.update_time - insight.create_time
                latencies.append(delta.total_seconds() * 1000)
        return InsightStats(
            total=sum(status.values()),
            by_status=sorted(status.items()),
            by_theme=theme.most_common(top),
            by_source=sorted(source.items()),
            by_tag=tags.most_common(top),
            per_day=sorted(days.items()),
            top_entities=entities.most_common(top),
            latency_ms={p: percentile(latencies, p) for p in (50, 95, 99)},
        )
