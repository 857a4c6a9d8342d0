"""The default theme classifier: fitted on examples, it answers with a probability, and the
temperature changes how sure it is, never what it picks."""

from __future__ import annotations

import pytest

from services.nlp.domain.theme_examples import THEME_EXAMPLES
from services.nlp.domain.themes import DefaultThemes

CLUSTERS = {
    "A": [[1.0, 0.1, 0.0], [0.9, 0.0, 0.1], [1.0, -0.1, 0.0]],
    "B": [[0.0, 1.0, 0.1], [0.1, 0.9, 0.0], [-0.1, 1.0, 0.0]],
    "C": [[0.0, 0.1, 1.0], [0.1, 0.0, 0.9], [0.0, -0.1, 1.0]],
}


def test_a_text_near_a_themes_examples_gets_that_theme_with_a_probability() -> None:
    themes = DefaultThemes.fit(CLUSTERS)
    for name, point in (("A", [0.8, 0.2, 0.1]), ("B", [0.1, 0.7, 0.2]), ("C", [0.2, 0.1, 0.6])):
        theme = themes.classify(point)
        assert theme.name == name
        assert 1 / 3 < theme.confidence < 1.0


def test_only_the_direction_of_an_embedding_counts() -> None:
    themes = DefaultThemes.fit(CLUSTERS)
    assert themes.classify([0.8, 0.2, 0.1]) == themes.classify([8.0, 2.0, 1.0])


def test_a_lower_temperature_is_surer_of_the_same_theme() -> None:
    point = [0.6, 0.5, 0.1]
    soft = DefaultThemes.fit(CLUSTERS, temperature=1.0).classify(point)
    sharp = DefaultThemes.fit(CLUSTERS, temperature=0.2).classify(point)
    assert soft.name == sharp.name
    assert sharp.confidence > soft.confidence


def test_two_themes_work_too() -> None:
    themes = DefaultThemes.fit({"A": CLUSTERS["A"], "B": CLUSTERS["B"]})
    assert themes.classify([0.1, 1.0, 0.0]).name == "B"
    assert themes.names == ["A", "B"]


@pytest.mark.parametrize(
    ("embeddings", "temperature", "message"),
    [
        ({"A": CLUSTERS["A"]}, 0.4, "two themes"),
        (CLUSTERS, 0.0, "temperature"),
    ],
)
def test_it_refuses_what_cannot_make_a_classifier(
    embeddings: dict[str, list[list[float]]], temperature: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DefaultThemes.fit(embeddings, temperature)


def test_ten_themes_each_with_plenty_of_distinct_examples() -> None:
    assert len(THEME_EXAMPLES) == 10
    assert all(len(examples) >= 25 for examples in THEME_EXAMPLES.values())
    every = [text.lower() for examples in THEME_EXAMPLES.values() for text in examples]
    assert len(set(every)) == len(every)
