"""Entities and keywords of a note in a language the spaCy pipeline was not trained on.

Only English pipelines are installed, and an English parser reads other languages badly: it made
"Demain je dois appeler la banque pour le prêt immobilier" one keyword, the German "Morgen"
(tomorrow) opening a note an ORG, and "llamar al médico" a PERSON — and two notes sharing such an
"entity" would be linked. So for another language:

- keywords are the names below (one keyword each: "angela merkel") and single words from that
  language's tokenizer, without its stop words (spaCy has tokenizers and stop-word lists for ~70
  languages without a trained pipeline); the per-owner TF-IDF ranks them as usual. Japanese,
  Chinese and Thai notes get none: no segmenter for them is installed, and an unsegmented
  clause is no keyword;
- the English model's entities are kept only where they look like names: lower-case words and
  the language's stop words are trimmed from their ends ("de Gabriel García Márquez" -> "Gabriel
  García Márquez"), and a lone capitalised word opening a sentence is dropped (German capitalises
  every noun; Spanish and French notes open with "Mañana", "Demain"). Names inside a sentence
  ("Angela Merkel", "Berlin", "Marie") stay, with the English model's label.
"""

from __future__ import annotations

import functools
import unicodedata

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Token

from services.nlp.domain.keywords import MAX_TERM_CHARS
from services.nlp.domain.models import Entity, ParsedText

MIN_KEYWORD_CHARS = 3
# Scripts written without spaces between words. Without a segmenter for them (Japanese needs
# SudachiPy, Thai PyThaiNLP) a "token" is a whole clause, never a keyword; words in them are 1-4
# characters, so a longer run is skipped.
_UNSPACED_SCRIPTS = ("CJK UNIFIED", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR")
MAX_UNSPACED_WORD_CHARS = 4
_SENTENCE_ENDS = frozenset(".!?:;\n")


@functools.cache
def tokenizer_for(language: str) -> Language:
    """A blank pipeline (tokenizer and stop words) for `language`, or the multi-language one when
    spaCy has none for it (or needs a package that is not installed, as Japanese does). Built on
    first use, once per process: 0.1-0.2 s for most languages, ~5 s for French (its tokenizer
    exceptions compile into one large pattern) — the first French note of a process waits."""
    try:
        return spacy.blank(language)
    except (ImportError, KeyError, ValueError):
        return spacy.blank("xx")


def _unsegmented(word: str) -> bool:
    return len(word) > MAX_UNSPACED_WORD_CHARS and any(
        unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS) for ch in word
    )


def _at_sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in _SENTENCE_ENDS


def _names(doc: Doc, stop_words: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, label) in the text of the English model's entities that look like names."""

    def name_like(token: Token) -> bool:
        return token.text[:1].isupper() and token.lower_ not in stop_words

    names: list[tuple[int, int, str]] = []
    for span in doc.ents:
        tokens = list(span)
        while tokens and not name_like(tokens[0]):
            tokens.pop(0)
        while tokens and not name_like(tokens[-1]):
            tokens.pop()
        capitalised = sum(1 for token in tokens if name_like(token))
        if not tokens or (capitalised < 2 and _at_sentence_start(doc.text, span.start_char)):
            continue
        names.append((tokens[0].idx, tokens[-1].idx + len(tokens[-1].text), span.label_))
    return names


def parse(doc: Doc, language: str) -> ParsedText:
    """`doc` is the English pipeline's reading of a note in `language`. A name is one keyword
    ("angela merkel"); the other keywords are single words."""
    nlp = tokenizer_for(language)
    stop_words: set[str] = nlp.Defaults.stop_words
    text = doc.text
    names = _names(doc, stop_words)
    entities = [Entity(text=text[start:end], label=label) for start, end, label in names]
    found = [
        (start, text[start:end].lower()) for start, end, _ in names if end - start <= MAX_TERM_CHARS
    ]
    for token in nlp.make_doc(text):
        if any(start <= token.idx < end for start, end, _ in names):
            continue
        if (
            token.is_alpha
            and MIN_KEYWORD_CHARS <= len(token.text) <= MAX_TERM_CHARS
            and token.lower_ not in stop_words
            and not _unsegmented(token.text)
        ):
            found.append((token.idx, token.lower_))
    return ParsedText(entities=entities, terms=[term for _, term in sorted(found)])
