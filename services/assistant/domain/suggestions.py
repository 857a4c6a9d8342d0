"""ListSuggestions: what of the person's own insights, tags and themes matters for what they are
writing now or looking at. See ranking.py for how suggestions are scored and chosen, and
cache_keys.py for how cached answers are invalidated."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Sequence

from services.assistant.domain import cache_keys, ranking
from services.assistant.domain.context_analysis import ContextAnalyses
from services.assistant.domain.models import (
    InsightInfo,
    SimilarInsight,
    Suggestion,
    SuggestionKind,
    SuggestionRequest,
    TextAnalysis,
)
from services.assistant.domain.ports import (
    ChangeVersions,
    InsightDirectory,
    ResponseCache,
    SimilarityIndex,
    SuggestionStore,
    TextAnalyzer,
    ThemeModelVersions,
)
from services.assistant.domain.reasons import Source
from services.common.clock import utc_now
from services.common.errors import InvalidArgument, NotFound

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_CONTEXT_CHARS = 20_000


def validated(request: SuggestionRequest) -> SuggestionRequest:
    if len(request.context) > MAX_CONTEXT_CHARS:
        raise InvalidArgument.field("context", f"at most {MAX_CONTEXT_CHARS} characters")
    if not request.context.strip() and not request.insight_id:
        raise InvalidArgument.field("context", "give a context, an insight_id, or both")
    if not 0 <= request.limit <= MAX_LIMIT:
        raise InvalidArgument.field("limit", f"must be between 1 and {MAX_LIMIT} (0 means 10)")
    context = request.context if request.context.strip() else ""
    return SuggestionRequest(context, request.insight_id, request.limit or DEFAULT_LIMIT)


def search_width(limit: int) -> int:
    """Neighbours asked of the graph: room for rejected ones and for the tag vote."""
    return min(200, max(20, 2 * limit))


def encode(suggestions: Sequence[Suggestion]) -> str:
    return json.dumps(
        [[s.id, s.kind.value, s.target, s.score, s.reason] for s in suggestions],
        separators=(",", ":"),
    )


def decode(raw: str) -> list[Suggestion]:
    return [
        Suggestion(str(i), SuggestionKind(k), str(t), float(sc), str(r))
        for i, k, t, sc, r in json.loads(raw)
    ]


class Suggester:
    def __init__(
        self,
        insights: InsightDirectory,
        index: SimilarityIndex,
        analyzer: TextAnalyzer,
        store: SuggestionStore,
        cache: ResponseCache,
        versions: ChangeVersions,
        models: ThemeModelVersions,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._insights = insights
        self._index = index
        self._analyzer = analyzer
        self._contexts = ContextAnalyses(analyzer, cache, models)
        self._store = store
        self._cache = cache
        self._versions = versions
        self._now = now

    async def suggest(self, owner_id: str, request: SuggestionRequest) -> list[Suggestion]:
        request = validated(request)
        # Versions are read before computing: a change while computing leaves this answer under
        # a key nobody will ask for again.
        insights_version, rejections_version = await asyncio.gather(
            self._versions.insights_version(owner_id), self._store.rejections_version(owner_id)
        )
        key = None
        if insights_version is not None:
            key = cache_keys.suggestions_key(
                owner_id, insights_version, rejections_version, request
            )
            cached = await self._cache.get(key)
            if cached is not None:
                return decode(cached)
        suggestions = await self._compute(owner_id, request)
        await self._store.remember(owner_id, suggestions)
        if key is not None:
            await self._cache.put(key, encode(suggestions), cache_keys.SUGGESTIONS_TTL_SECONDS)
        return suggestions

    async def _compute(self, owner_id: str, request: SuggestionRequest) -> list[Suggestion]:
        analysis, viewed = await asyncio.gather(
            self._analyze(owner_id, request.context), self._viewed(owner_id, request.insight_id)
        )
        queries: dict[Source, list[float]] = {}
        if analysis is not None:
            queries[Source.CONTEXT] = analysis.embedding
        if viewed is not None:
            (queries[Source.INSIGHT],) = await self._analyzer.embed([viewed.text])
        exclude = [request.insight_id] if request.insight_id else []
        width = search_width(request.limit)
        hits: list[list[SimilarInsight]] = list(
            await asyncio.gather(
                *(
                    self._index.find_similar(owner_id, vector, width, exclude)
                    for vector in queries.values()
                )
            )
        )
        neighbours = ranking.merge(dict(zip(queries, hits, strict=True)))
        found = await self._insights.batch_get(owner_id, [n.hit.insight_id for n in neighbours])
        infos = {info.id: info for info in found}
        insights = ranking.insight_suggestions(neighbours, infos, self._now())
        labels = ranking.tag_suggestions(neighbours, infos, viewed.tags if viewed else ())
        labels += ranking.theme_suggestion(analysis)
        rejections = await self._store.rejections(owner_id)
        return ranking.choose(insights, labels, rejections, request.limit)

    async def _analyze(self, owner_id: str, context: str) -> TextAnalysis | None:
        return await self._contexts.analyze(owner_id, context) if context else None

    async def _viewed(self, owner_id: str, insight_id: str) -> InsightInfo | None:
        if not insight_id:
            return None
        found = await self._insights.batch_get(owner_id, [insight_id])
        if not found:
            raise NotFound("insight not found")
        return found[0]
