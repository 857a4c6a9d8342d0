"""Notes in languages the English spaCy pipeline was not trained on: names stay entities, words
that only look like names to an English model do not, and keywords are the language's own words
without its stop words (services/nlp/engines/other_languages.py)."""

from __future__ import annotations

import pytest

from services.common.config import DEFAULT_SPACY_MODEL
from services.nlp.domain.language import detect_language
from services.nlp.engines.spacy_text import SpacyTextParser


@pytest.fixture(scope="module")
def parser() -> SpacyTextParser:
    return SpacyTextParser.load(DEFAULT_SPACY_MODEL)


@pytest.mark.parametrize(
    ("text", "language", "entities", "terms"),
    [
        (
            "Heute habe ich mit Angela Merkel in Berlin gesprochen",
            "de",
            [("Angela Merkel", "PERSON"), ("Berlin", "GPE")],
            ["angela merkel", "berlin", "gesprochen"],
        ),
        (
            # The English model reads "Morgen" (tomorrow) as an ORG and "Finanzamt abgeben" as
            # a PERSON; the sentence's opening word goes, the verb is trimmed.
            "Morgen muss ich die Steuererklärung beim Finanzamt abgeben",
            "de",
            [("Finanzamt", "PERSON")],
            ["steuererklärung", "finanzamt", "abgeben"],
        ),
        (
            # An English parse made the whole sentence one keyword.
            "Demain je dois appeler la banque pour le prêt immobilier",
            "fr",
            [],
            ["demain", "dois", "appeler", "banque", "prêt", "immobilier"],
        ),
        (
            "Mañana tengo que llamar al médico en Madrid",
            "es",
            [("Madrid", "GPE")],
            ["mañana", "llamar", "médico", "madrid"],
        ),
        (
            "El libro de Gabriel García Márquez es increíble",
            "es",
            [("Gabriel García Márquez", "PERSON")],
            ["libro", "gabriel garcía márquez", "increíble"],
        ),
    ],
)
def test_names_are_kept_and_keywords_are_the_languages_own_words(
    parser: SpacyTextParser,
    text: str,
    language: str,
    entities: list[tuple[str, str]],
    terms: list[str],
) -> None:
    assert detect_language(text) == language
    parsed = parser.parse(text, language)
    assert [(e.text, e.label) for e in parsed.entities] == entities
    assert parsed.terms == terms


def test_a_language_spacy_has_no_tokenizer_for_still_gets_keywords(
    parser: SpacyTextParser,
) -> None:
    parsed = parser.parse("Zürich café — naïve résumé", "gcf")
    assert parsed.terms == ["zürich", "café", "naïve", "résumé"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("明日は銀行に電話して住宅ローンの金利を聞く", "ja"),  # no segmenter installed
        ("พรุ่งนี้ต้องโทรหาธนาคารเรื่องดอกเบี้ยบ้าน", "th"),
    ],
)
def test_a_script_without_spaces_never_yields_a_whole_clause_as_a_keyword(
    parser: SpacyTextParser, text: str, language: str
) -> None:
    assert detect_language(text) == language
    assert all(len(term) <= 4 for term in parser.parse(text, language).terms)


def test_english_is_read_as_before(parser: SpacyTextParser) -> None:
    parsed = parser.parse("Apple is opening a research lab in Berlin", "en")
    assert parsed.terms == ["apple", "research lab", "berlin"]
    assert [(e.text, e.label) for e in parsed.entities] == [("Apple", "ORG"), ("Berlin", "GPE")]
