"""Analysing text: language, entities, keywords, theme and embedding; and batch embedding.

The CPU-bound work (parsing, embedding) runs in the executor it is given, never on the event loop;
only the corpus statistics round trip is awaited on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from services.common.errors import FieldViolation, InvalidArgument
from services.common.request_context import in_this_context
from services.common.theme_models import ThemeModel
from services.nlp.domain.keywords import rank_keywords
from services.nlp.domain.language import detect_language
from services.nlp.domain.models import Analysis, Entity, ParsedText, Theme
from services.nlp.domain.ports import Embedder, TextParser
from services.nlp.domain.themes import DefaultThemes
from services.nlp.store.port import CorpusStats


class OwnerThemes(Protocol):
    async def model_for(self, owner_id: str) -> ThemeModel | None: ...


MAX_TEXT_CHARS = 20_000
MAX_BATCH_TEXTS = 256

T = TypeVar("T")


@dataclass(frozen=True)
class _CpuResult:
    language: str
    parsed: ParsedText
    embedding: list[float]


class TextAnalyzer:
    def __init__(
        self,
        parser: TextParser,
        embedder: Embedder,
        themes: DefaultThemes,
        corpus: CorpusStats,
        executor: Executor,
        owner_themes: OwnerThemes | None = None,
    ) -> None:
        self._parser = parser
        self._embedder = embedder
        self._themes = themes
        self._corpus = corpus
        self._executor = executor
        self._owner_themes = owner_themes

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, in_this_context(work)
        )

    def _cpu_part(self, text: str) -> _CpuResult:
        language = detect_language(text)
        return _CpuResult(
            language=language,
            parsed=self._parser.parse(text, language),
            embedding=self._embedder.embed([text])[0],
        )

    async def analyze(self, text: str, owner_id: str, insight_id: str) -> Analysis:
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidArgument.field("text", f"must be at most {MAX_TEXT_CHARS} characters")
        result = await self._run(lambda: self._cpu_part(text))
        terms = result.parsed.terms
        corpus = await self._corpus.count(owner_id, insight_id, terms) if owner_id else None
        theme: Theme | None = None
        if text.strip():
            theme = await self._theme(owner_id, result.embedding)
        return Analysis(
            language=result.language,
            entities=_distinct(result.parsed.entities),
            keywords=rank_keywords(terms, corpus),
            theme=theme,
            embedding=result.embedding,
        )

    async def _theme(self, owner_id: str, embedding: list[float]) -> Theme:
        """The person's own trained classifier when they have one, else the default one."""
        if owner_id and self._owner_themes is not None:
            model = await self._owner_themes.model_for(owner_id)
            if model is not None:
                name, confidence = model.predict(embedding)
                return Theme(name=name, confidence=confidence)
        return self._themes.classify(embedding)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) > MAX_BATCH_TEXTS:
            raise InvalidArgument.field("texts", f"must hold at most {MAX_BATCH_TEXTS} texts")
        violations = [
            FieldViolation(f"texts[{index}]", f"must be at most {MAX_TEXT_CHARS} characters")
            for index, text in enumerate(texts)
            if len(text) > MAX_TEXT_CHARS
        ]
        if violations:
            raise InvalidArgument(violations)
        if not texts:
            return []
        batch = list(texts)
        return await self._run(lambda: self._embedder.embed(batch))


def _distinct(entities: Sequence[Entity]) -> list[Entity]:
    return list(dict.fromkeys(entities))
