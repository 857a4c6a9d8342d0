"""Theme confidence: a softmax over prototype similarities, an honest probability."""

from __future__ import annotations

import math

import pytest

from services.nlp.domain.themes import (
    THEME_DESCRIPTIONS,
    THEME_TEMPERATURE,
    ThemePrototypes,
    softmax,
)


def test_softmax_sums_to_one_and_keeps_order() -> None:
    probabilities = softmax([0.5, 0.3, 0.1])
    assert sum(probabilities) == pytest.approx(1.0)
    assert probabilities[0] > probabilities[1] > probabilities[2]


def test_softmax_odds_follow_the_temperature() -> None:
    low, high = softmax([0.0, 0.05], temperature=0.025)
    assert high / low == pytest.approx(math.e**2)


def test_softmax_is_stable_for_large_scores() -> None:
    assert softmax([1000.0, 1000.0], temperature=0.001) == pytest.approx([0.5, 0.5])


def test_softmax_rejects_a_non_positive_temperature() -> None:
    with pytest.raises(ValueError, match="temperature"):
        softmax([0.1], temperature=0.0)


def test_nearest_prototype_wins_with_a_probability_not_a_cosine() -> None:
    prototypes = ThemePrototypes({"A": [1.0, 0.0], "B": [0.0, 1.0], "C": [-1.0, 0.0]})
    theme = prototypes.classify([0.9, 0.1])
    assert theme.name == "A"
    cosine = 0.9 / math.hypot(0.9, 0.1)
    assert 0.0 < theme.confidence <= 1.0
    assert theme.confidence != pytest.approx(cosine)
    similarities = prototypes.similarities([0.9, 0.1])
    expected = softmax(list(similarities.values()), THEME_TEMPERATURE)[0]
    assert theme.confidence == pytest.approx(expected)


def test_equidistant_text_gets_an_even_split() -> None:
    prototypes = ThemePrototypes({"A": [1.0, 0.0], "B": [0.0, 1.0]})
    assert prototypes.classify([1.0, 1.0]).confidence == pytest.approx(0.5)


def test_prototype_is_the_mean_of_its_description_embeddings() -> None:
    prototypes = ThemePrototypes.from_description_embeddings(
        {"A": [[1.0, 0.0], [0.0, 1.0]], "B": [[-1.0, 0.0]]}
    )
    assert prototypes.similarities([1.0, 1.0])["A"] == pytest.approx(1.0)


def test_about_ten_documented_themes_with_two_to_four_sentences() -> None:
    assert 8 <= len(THEME_DESCRIPTIONS) <= 12
    assert all(2 <= len(sentences) <= 4 for sentences in THEME_DESCRIPTIONS.values())
