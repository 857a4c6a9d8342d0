"""The default threshold of automatic SEMANTIC links (services/graph/domain/threshold.py), checked
on the notes it was chosen on: the 50 short notes of tests/unit/test_search_similarity.py, two of
them judged related when they answer the same hand-judged query there. Loads the real embedding
model (~3 s) and scores every pair as the graph service does (cosine of normalised embeddings)."""

from __future__ import annotations

import itertools

import pytest

from services.graph.domain.threshold import DEFAULT_THRESHOLD
from services.nlp.engines.sentence_embedder import SentenceEmbedder
from tests.unit.test_search_similarity import NOTES, RELEVANT

CANDIDATES = [0.3, 0.35, 0.4, 0.45, 0.5]
# A wrong link shows in the person's mind map; most of what is linked must be right.
MIN_PRECISION = 0.8


@pytest.fixture(scope="module")
def pairs() -> list[tuple[float, bool]]:
    """(similarity, related) for every pair of notes."""
    vectors = SentenceEmbedder.load().embed(NOTES)
    return [
        (
            sum(x * y for x, y in zip(vectors[i], vectors[j], strict=True)),
            any(NOTES[i] in group and NOTES[j] in group for group in RELEVANT.values()),
        )
        for i, j in itertools.combinations(range(len(NOTES)), 2)
    ]


def _linked(pairs: list[tuple[float, bool]], threshold: float) -> tuple[int, int]:
    right = sum(related and score >= threshold for score, related in pairs)
    wrong = sum(not related and score >= threshold for score, related in pairs)
    return right, wrong


def test_the_default_is_the_lowest_threshold_whose_links_are_mostly_right(
    pairs: list[tuple[float, bool]],
) -> None:
    table = {t: _linked(pairs, t) for t in CANDIDATES}
    print({t: f"right {r}, wrong {w}" for t, (r, w) in table.items()})
    good = [t for t, (r, w) in table.items() if r and r / (r + w) >= MIN_PRECISION]
    assert min(good) == DEFAULT_THRESHOLD


def test_the_old_default_linked_nothing(pairs: list[tuple[float, bool]]) -> None:
    assert _linked(pairs, 0.5) == (0, 0)
