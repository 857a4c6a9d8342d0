"""Keywords: noun-chunk terms ranked by TF-IDF against the owner's own corpus.

A term is a noun chunk, lower-cased, its head word lemmatised and its modifiers as written, with
determiners, pronouns, particles and punctuation removed ("the new research labs" -> "new research
lab", "machine learning engineers" -> "machine learning engineer"); a chunk that is only a
pronoun ("it", "we") yields nothing. No stop-word list is used: words common in an owner's
insights get a low inverse document frequency from that owner's corpus instead.

    tf(t)  = occurrences of t in this text
    idf(t) = ln((1 + N) / (1 + df(t))) + 1          (smoothed, as scikit-learn's TfidfVectorizer)

where N is the number of the owner's documents and df(t) the number containing t, this one
included once it has been counted. Without an owner every idf is 1 (ranking by tf alone). Ties
keep the order of first appearance.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from services.nlp.domain.models import CorpusCounts

MAX_KEYWORDS = 8
MAX_TERM_CHARS = 80
# Universal POS tags dropped from a chunk: determiners, pronouns, particles (the possessive "'s"),
# punctuation, symbols.
DROPPED_TAGS = frozenset({"DET", "PRON", "PART", "PUNCT", "SYM", "SPACE"})


def chunk_term(tokens: Iterable[tuple[str, str]]) -> str | None:
    """One noun chunk, given as (word, universal POS tag) pairs — the head word lemmatised, the
    others as written — as a term; None if empty."""
    words = [
        word.strip().lower()
        for word, tag in tokens
        if tag not in DROPPED_TAGS and word.strip() and any(ch.isalnum() for ch in word)
    ]
    term = " ".join(words)
    if not term or len(term) > MAX_TERM_CHARS:
        return None
    return term


def idf(document_count: int, document_frequency: int) -> float:
    return math.log((1 + document_count) / (1 + document_frequency)) + 1.0


def rank_keywords(
    terms: Sequence[str], corpus: CorpusCounts | None, limit: int = MAX_KEYWORDS
) -> list[str]:
    """The best `limit` distinct terms by tf-idf (tf alone when `corpus` is None)."""
    counts = Counter(terms)
    first_seen = {term: index for index, term in reversed(list(enumerate(terms)))}

    def score(term: str) -> float:
        if corpus is None:
            return float(counts[term])
        df = corpus.document_frequency.get(term, 0)
        return counts[term] * idf(corpus.document_count, df)

    ranked = sorted(counts, key=lambda term: (-score(term), first_seen[term]))
    return ranked[:limit]
