"""Keyword terms from noun chunks, and their TF-IDF ranking against an owner's corpus."""

from __future__ import annotations

import math

import pytest

from services.nlp.domain.keywords import MAX_KEYWORDS, chunk_term, idf, rank_keywords
from services.nlp.domain.models import CorpusCounts
from services.nlp.store.memory import MemoryCorpusStats


def test_chunk_term_strips_determiners_pronouns_particles_and_lowercases() -> None:
    assert chunk_term([("the", "DET"), ("new", "ADJ"), ("lab", "NOUN")]) == "new lab"
    assert chunk_term([("my", "PRON"), ("Research", "NOUN")]) == "research"
    assert chunk_term([("Friday", "PROPN"), ("'s", "PART"), ("deadline", "NOUN")]) == (
        "friday deadline"
    )
    assert chunk_term([("it", "PRON")]) is None
    assert chunk_term([("the", "DET"), ("-", "PUNCT")]) is None


def test_idf_is_smoothed_and_falls_with_document_frequency() -> None:
    assert idf(10, 0) == pytest.approx(math.log(11) + 1)
    assert idf(10, 10) == pytest.approx(1.0)
    assert idf(10, 1) > idf(10, 5)


def test_without_a_corpus_terms_rank_by_frequency_then_first_appearance() -> None:
    terms = ["meeting", "budget", "coffee", "budget", "plan"]
    assert rank_keywords(terms, None) == ["budget", "meeting", "coffee", "plan"]


def test_terms_common_in_the_owners_corpus_sink() -> None:
    terms = ["meeting", "quantum sensor", "meeting", "quantum sensor", "team"]
    corpus = CorpusCounts(
        document_count=50,
        document_frequency={"meeting": 48, "team": 45, "quantum sensor": 1},
    )
    assert rank_keywords(terms, corpus) == ["quantum sensor", "meeting", "team"]


def test_at_most_eight_keywords() -> None:
    terms = [f"term {i}" for i in range(20)]
    assert len(rank_keywords(terms, None)) == MAX_KEYWORDS == 8


async def test_memory_corpus_counts_each_document_once_per_owner() -> None:
    corpus = MemoryCorpusStats()
    first = await corpus.count("alice", "insight-1", ["lab", "lab", "berlin"])
    assert first.document_count == 1
    assert first.document_frequency == {"lab": 1, "berlin": 1}
    again = await corpus.count("alice", "insight-1", ["lab", "berlin"])
    assert again == first
    other = await corpus.count("alice", "insight-2", ["lab"])
    assert other.document_count == 2
    assert other.document_frequency == {"lab": 2}
    assert (await corpus.count("bob", "", ["lab"])).document_frequency == {"lab": 0}
