"""Keyword terms from the real spaCy pipeline the nlp service loads by default: the head word of
each noun chunk lemmatised, its modifiers kept as written."""

from __future__ import annotations

import pytest

from services.common.config import DEFAULT_SPACY_MODEL
from services.nlp.engines.spacy_text import SpacyTextParser


@pytest.fixture(scope="module")
def parser() -> SpacyTextParser:
    return SpacyTextParser.load(DEFAULT_SPACY_MODEL)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        # A modifier's lemma is another word: "learning" -> "learn", "better" -> "well".
        (
            "Berlin startups are hiring machine learning engineers",
            ["berlin startup", "machine learning engineer"],
        ),
        ("We need better results from the running shoes", ["better result", "running shoe"]),
        ("The new research labs opened today", ["new research lab"]),
        ("Apple is opening a research lab in Berlin", ["apple", "research lab", "berlin"]),
    ],
)
def test_noun_chunks_become_terms_with_only_the_head_word_lemmatised(
    parser: SpacyTextParser, text: str, terms: list[str]
) -> None:
    assert parser.parse(text).terms == terms


def test_pronoun_chunks_yield_no_term(parser: SpacyTextParser) -> None:
    assert parser.parse("It was what we wanted").terms == []
