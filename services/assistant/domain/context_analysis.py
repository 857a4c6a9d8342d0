"""The analysis of a suggestions context (theme + embedding), cached by its text.

Suggestions are computed again whenever the person's insights change (every create bumps the
change counter in their cache key), but the context a person writes in changes far less often,
and analysing it (spaCy and the embedding model, ~45 ms of nlp CPU) was most of an uncached
suggestion. The key names the owner, their promoted theme model's version (a new model makes
older entries unreachable) and a digest of the text; the TTL reclaims the space and bounds how
long an nlp model upgrade can leave old embeddings in use.
"""

from __future__ import annotations

import base64
import json
import logging
from array import array

from services.assistant.domain import cache_keys
from services.assistant.domain.models import TextAnalysis
from services.assistant.domain.ports import ResponseCache, TextAnalyzer, ThemeModelVersions
from services.common.errors import Unavailable

log = logging.getLogger(__name__)


def encode(analysis: TextAnalysis) -> str:
    # The embedding travels as float32 in protobuf already, so packing it so loses nothing.
    packed = base64.b64encode(array("f", analysis.embedding).tobytes()).decode()
    return json.dumps({"t": analysis.theme, "c": analysis.theme_confidence, "e": packed})


def decode(raw: str) -> TextAnalysis:
    entry = json.loads(raw)
    embedding = array("f")
    embedding.frombytes(base64.b64decode(entry["e"]))
    return TextAnalysis(str(entry["t"]), float(entry["c"]), embedding.tolist())


class ContextAnalyses:
    def __init__(
        self, analyzer: TextAnalyzer, cache: ResponseCache, models: ThemeModelVersions
    ) -> None:
        self._analyzer = analyzer
        self._cache = cache
        self._models = models

    async def analyze(self, owner_id: str, context: str) -> TextAnalysis:
        try:
            version = await self._models.current_version(owner_id)
        except Unavailable:
            # Which model would answer is unknown: analyse, and cache nothing.
            return await self._analyzer.analyze(owner_id, context)
        key = cache_keys.context_analysis_key(owner_id, version, context)
        cached = await self._cache.get(key)
        if cached is not None:
            try:
                return decode(cached)
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable cached context analysis; analysing again")
        analysis = await self._analyzer.analyze(owner_id, context)
        await self._cache.put(key, encode(analysis), cache_keys.CONTEXT_ANALYSIS_TTL_SECONDS)
        return analysis
