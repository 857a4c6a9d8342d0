"""TextAnalyzer with fake models: limits, entity de-duplication, per-owner keyword ranking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common.errors import InvalidArgument
from services.nlp.domain.analyzer import MAX_BATCH_TEXTS, MAX_TEXT_CHARS, TextAnalyzer
from services.nlp.domain.models import Entity, ParsedText
from services.nlp.domain.themes import DefaultThemes
from services.nlp.store.memory import MemoryCorpusStats


class FakeParser:
    def __init__(self) -> None:
        self.languages: list[str] = []

    def parse(self, text: str, language: str = "en") -> ParsedText:
        self.languages.append(language)
        words = text.lower().replace(".", "").split()
        entities = [Entity(w.capitalize(), "ORG") for w in words if w == "apple"]
        return ParsedText(entities=entities, terms=words)


class FakeEmbedder:
    dimensions = 2

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0, 0.0] if "apple" in t.lower() else [0.0, 1.0] for t in texts]


@pytest.fixture()
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as executor:
        yield executor


@pytest.fixture()
def analyzer(pool: ThreadPoolExecutor) -> TextAnalyzer:
    themes = DefaultThemes.fit({"Technology": [[1.0, 0.0]], "Food & Cooking": [[0.0, 1.0]]})
    return TextAnalyzer(FakeParser(), FakeEmbedder(), themes, MemoryCorpusStats(), pool)


async def test_analysis_fields(analyzer: TextAnalyzer) -> None:
    result = await analyzer.analyze("Apple lab. Apple office.", "", "")
    assert result.language == "en"
    assert result.entities == [Entity("Apple", "ORG")]
    assert result.keywords[0] == "apple"
    assert result.theme is not None
    assert result.theme.name == "Technology"
    assert 0.5 < result.theme.confidence <= 1.0
    assert result.embedding == [1.0, 0.0]


async def test_owner_corpus_demotes_the_owners_everyday_words(analyzer: TextAnalyzer) -> None:
    for index in range(5):
        await analyzer.analyze(f"meeting notes {index}", "alice", f"i{index}")
    result = await analyzer.analyze("meeting meeting graphene graphene", "alice", "new")
    assert result.keywords == ["graphene", "meeting"]
    unowned = await analyzer.analyze("meeting meeting meeting graphene graphene", "", "")
    assert unowned.keywords == ["meeting", "graphene"]


async def test_blank_text_has_no_theme_but_an_embedding(analyzer: TextAnalyzer) -> None:
    result = await analyzer.analyze("   ", "alice", "blank")
    assert result.theme is None
    assert result.keywords == []
    assert len(result.embedding) == 2


async def test_text_over_the_limit_is_refused(analyzer: TextAnalyzer) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await analyzer.analyze("x" * (MAX_TEXT_CHARS + 1), "", "")
    assert caught.value.violations[0].field == "text"


async def test_embed_keeps_order_and_enforces_limits(analyzer: TextAnalyzer) -> None:
    assert await analyzer.embed(["pear", "apple"]) == [[0.0, 1.0], [1.0, 0.0]]
    assert await analyzer.embed([]) == []
    with pytest.raises(InvalidArgument):
        await analyzer.embed(["a"] * (MAX_BATCH_TEXTS + 1))
    with pytest.raises(InvalidArgument) as caught:
        await analyzer.embed(["ok", "x" * (MAX_TEXT_CHARS + 1)])
    assert caught.value.violations[0].field == "texts[1]"


async def test_the_parser_is_told_the_notes_language(pool: ThreadPoolExecutor) -> None:
    parser = FakeParser()
    themes = DefaultThemes.fit({"Technology": [[1.0, 0.0]], "Food & Cooking": [[0.0, 1.0]]})
    analyzer = TextAnalyzer(parser, FakeEmbedder(), themes, MemoryCorpusStats(), pool)
    german = await analyzer.analyze("Morgen muss ich die Steuererklärung abgeben", "", "")
    english = await analyzer.analyze("Apple is opening a research lab in Berlin", "", "")
    assert (german.language, english.language) == ("de", "en")
    assert parser.languages == ["de", "en"]
