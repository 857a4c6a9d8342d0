"""Pure rules of the graph domain: labels, reasons and overlap, the threshold rule, vectors."""

from __future__ import annotations

import numpy as np
import pytest

from services.common.errors import InvalidArgument
from services.graph.domain.labels import short_label
from services.graph.domain.models import FeedbackStats
from services.graph.domain.reasons import (
    entity_overlap,
    entity_reason,
    semantic_reason,
    shared_terms,
)
from services.graph.domain.threshold import DEFAULT_THRESHOLD, adapted_threshold
from services.graph.domain.vectors import cosine, normalized


def test_short_labels_keep_short_text_and_flatten_whitespace() -> None:
    assert short_label("  Graph   databases\nrock ") == "Graph databases rock"


def test_long_labels_are_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "Graph databases make the connections between my notes first-class citizens today"
    label = short_label(text)
    assert len(label) <= 60
    assert label == "Graph databases make the connections between my notes…"
    assert text.startswith(label[:-1])


def test_a_word_ending_exactly_at_the_limit_is_kept() -> None:
    text = "x" * 54 + " abcd efgh"  # 54 + 1 + 4 = 59 characters fit before the ellipsis
    assert short_label(text) == "x" * 54 + " abcd…"


def test_one_over_long_word_is_cut_mid_word() -> None:
    assert short_label("y" * 80) == "y" * 59 + "…"


def test_trailing_punctuation_is_dropped_before_the_ellipsis() -> None:
    text = "First clause, " + "second " * 10
    assert short_label(text, 20) == "First clause…"


def test_shared_terms_match_case_insensitively_in_my_spelling() -> None:
    assert shared_terms(["Apple", "Berlin", "apple"], ["BERLIN", "apple  "]) == ["Apple", "Berlin"]


def test_entity_overlap_is_the_ochiai_coefficient() -> None:
    assert entity_overlap(["Apple"], ["apple", "Berlin", "Paris", "Rome"]) == pytest.approx(0.5)
    assert entity_overlap(["A", "B"], ["a", "b"]) == pytest.approx(1.0)
    assert entity_overlap([], ["a"]) == 0.0


def test_reasons_read_like_explanations() -> None:
    assert semantic_reason(0.7234, ["graph databases"]) == (
        "similar meaning (0.72); shared keywords: graph databases"
    )
    assert semantic_reason(0.61, []) == "similar meaning (0.61)"
    assert entity_reason(["Apple", "Berlin"]) == "shared entities: Apple, Berlin"
    many = [f"e{i}" for i in range(7)]
    assert entity_reason(many) == "shared entities: e0, e1, e2, e3, e4 and 2 more"


def test_threshold_stays_at_default_until_enough_examples() -> None:
    assert adapted_threshold(FeedbackStats()) == DEFAULT_THRESHOLD
    assert adapted_threshold(FeedbackStats(1, 0.95, 1, 0.85)) == DEFAULT_THRESHOLD


def test_threshold_is_the_midpoint_of_smoothed_means() -> None:
    # mean_pos = (3*0.6 + 2.7) / 6 = 0.75; mean_neg = (3*0.2 + 2.1) / 6 = 0.45
    assert adapted_threshold(FeedbackStats(3, 2.7, 3, 2.1)) == pytest.approx(0.6)


def test_deletions_alone_raise_the_threshold_gradually() -> None:
    few = adapted_threshold(FeedbackStats(0, 0.0, 3, 3 * 0.6))
    many = adapted_threshold(FeedbackStats(0, 0.0, 30, 30 * 0.6))
    assert DEFAULT_THRESHOLD < few < many < 0.6


def test_threshold_is_clamped() -> None:
    assert adapted_threshold(FeedbackStats(1000, 1000.0, 1000, 1000.0)) == 0.9
    assert adapted_threshold(FeedbackStats(1000, 0.0, 1000, 0.0)) == 0.3


def test_vectors_are_normalised_and_checked() -> None:
    unit = normalized([3.0, 4.0])
    assert unit is not None and np.allclose(unit, [0.6, 0.8])
    assert normalized([]) is None and normalized([0.0, 0.0]) is None
    with pytest.raises(InvalidArgument):
        normalized([1.0, float("nan")])
    assert cosine(unit, normalized([1.0, 0.0])) == pytest.approx(0.6)
    assert cosine(unit, normalized([1.0, 0.0, 0.0])) is None
