"""GetStats: the insight service's counts and the graph's relationship counts, in one report,
cached briefly (see cache_keys.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

from services.assistant.domain import cache_keys
from services.assistant.domain.models import Count, InsightStats, Stats
from services.assistant.domain.ports import (
    ChangeVersions,
    InsightDirectory,
    ResponseCache,
    SimilarityIndex,
)


def encode(stats: Stats) -> str:
    return json.dumps(asdict(stats), separators=(",", ":"))


def _counts(raw: list[dict[str, Any]]) -> list[Count]:
    return [Count(str(c["key"]), int(c["count"])) for c in raw]


def decode(raw: str) -> Stats:
    data = json.loads(raw)
    i = data["insights"]
    return Stats(
        insights=InsightStats(
            total=int(i["total"]),
            by_status=_counts(i["by_status"]),
            by_theme=_counts(i["by_theme"]),
            by_source=_counts(i["by_source"]),
            by_tag=_counts(i["by_tag"]),
            per_day=_counts(i["per_day"]),
            top_entities=_counts(i["top_entities"]),
            latency_p50_ms=float(i["latency_p50_ms"]),
            latency_p95_ms=float(i["latency_p95_ms"]),
            latency_p99_ms=float(i["latency_p99_ms"]),
        ),
        relationships_by_type=_counts(data["relationships_by_type"]),
    )


class StatsReporter:
    def __init__(
        self,
        insights: InsightDirectory,
        graph: SimilarityIndex,
        cache: ResponseCache,
        versions: ChangeVersions,
    ) -> None:
        self._insights = insights
        self._graph = graph
        self._cache = cache
        self._versions = versions

    async def report(self, owner_id: str) -> Stats:
        version = await self._versions.insights_version(owner_id)
        key = cache_keys.stats_key(owner_id, version) if version is not None else None
        if key is not None and (cached := await self._cache.get(key)) is not None:
            return decode(cached)
        insights, relationships = await asyncio.gather(
            self._insights.stats(owner_id), self._graph.relationship_counts(owner_id)
        )
        stats = Stats(insights, relationships)
        if key is not None:
            await self._cache.put(key, encode(stats), cache_keys.STATS_TTL_SECONDS)
        return stats
