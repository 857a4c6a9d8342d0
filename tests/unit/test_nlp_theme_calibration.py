"""The theme prototypes and their softmax temperature, checked against hand-labelled insights.

This is the data THEME_TEMPERATURE was fitted on (temperature scaling: the T minimising the
negative log-likelihood of the true labels). It loads the real embedding model (~3 s).
"""

from __future__ import annotations

import math

import pytest

from services.nlp.domain.ports import Embedder
from services.nlp.domain.themes import THEME_TEMPERATURE, ThemePrototypes, softmax
from services.nlp.engines.loading import theme_prototypes
from services.nlp.engines.sentence_embedder import SentenceEmbedder

LABELLED: list[tuple[str, str]] = [
    ("The new laptop compiles our Rust project twice as fast", "Technology"),
    ("Switching the backend to gRPC made the API calls much cheaper", "Technology"),
    ("My phone's battery drains since the last software update", "Technology"),
    ("Large language models still hallucinate citations", "Technology"),
    ("Octopuses can taste with the suckers on their arms", "Science"),
    ("The James Webb telescope spotted carbon dioxide on an exoplanet", "Science"),
    ("Enzymes speed up reactions by lowering the activation energy", "Science"),
    ("Researchers measured how glaciers retreat as oceans warm", "Science"),
    ("Our churn dropped after we raised prices for enterprise customers", "Business"),
    ("The startup closed a seed round led by two angel investors", "Business"),
    ("Inflation is eating into the retailer's quarterly margins", "Business"),
    ("Negotiate the supplier contract before the fiscal year ends", "Business"),
    ("My blood pressure went down after a month of daily walks", "Health"),
    ("The doctor said the rash is an allergic reaction", "Health"),
    ("Eight hours of sleep really does help my anxiety", "Health"),
    ("Physiotherapy exercises for a sore lower back", "Health"),
    ("Toast the cumin seeds before grinding them for the curry", "Food & Cooking"),
    ("That ramen place downtown makes the broth for two days", "Food & Cooking"),
    ("Sourdough needs a long cold proof in the fridge", "Food & Cooking"),
    ("Add lemon zest to the risotto right at the end", "Food & Cooking"),
    ("Book the night train from Vienna to Venice in advance", "Travel"),
    ("The hike to the lighthouse on the island took four hours", "Travel"),
    ("Our hostel in Lisbon had a rooftop view of the old town", "Travel"),
    ("Remember to renew the passport before the trip to Japan", "Travel"),
    ("The orchestra played Mahler's fifth symphony beautifully", "Arts & Culture"),
    ("Finished reading a novel about a family in post-war Naples", "Arts & Culture"),
    ("The museum's new exhibition shows early Impressionist sketches", "Arts & Culture"),
    ("That film's cinematography used only natural light", "Arts & Culture"),
    ("Grandma told me stories about her childhood on the farm", "Personal"),
    ("I felt proud watching my daughter ride her bike alone", "Personal"),
    ("Called my brother after months; we should talk more often", "Personal"),
    ("Anniversary dinner with my wife, we laughed all evening", "Personal"),
    ("Spaced repetition flashcards help me memorise Spanish verbs", "Learning"),
    ("The linear algebra lecture finally made eigenvectors click", "Learning"),
    ("Enrolled in an online course on statistics for beginners", "Learning"),
    ("Practice explaining a concept to learn it properly", "Learning"),
    ("Block two hours each morning for deep work with no email", "Productivity"),
    ("Break the big task into small steps and do the first one now", "Productivity"),
    ("Weekly review: clear the inbox and set three priorities", "Productivity"),
    ("Shorter meetings with a clear agenda save the team hours", "Productivity"),
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return SentenceEmbedder.load()


@pytest.fixture(scope="module")
def similarities(embedder: Embedder) -> list[tuple[dict[str, float], str]]:
    prototypes: ThemePrototypes = theme_prototypes(embedder)
    vectors = embedder.embed([text for text, _ in LABELLED])
    return [
        (prototypes.similarities(vector), label)
        for vector, (_, label) in zip(vectors, LABELLED, strict=True)
    ]


def _nll(similarities: list[tuple[dict[str, float], str]], temperature: float) -> float:
    total = 0.0
    for scores, label in similarities:
        names = list(scores)
        probabilities = softmax([scores[n] for n in names], temperature)
        total -= math.log(probabilities[names.index(label)])
    return total / len(similarities)


def test_prototypes_pick_the_labelled_theme_mostly(
    similarities: list[tuple[dict[str, float], str]],
) -> None:
    correct = sum(max(scores, key=scores.__getitem__) == label for scores, label in similarities)
    assert correct / len(similarities) >= 0.8


def test_temperature_is_near_the_likelihood_optimum(
    similarities: list[tuple[dict[str, float], str]],
) -> None:
    grid = [t / 1000 for t in range(10, 201, 5)]
    best = min(grid, key=lambda t: _nll(similarities, t))
    print(
        f"best T={best} nll={_nll(similarities, best):.3f}; "
        f"chosen T={THEME_TEMPERATURE} nll={_nll(similarities, THEME_TEMPERATURE):.3f}"
    )
    assert _nll(similarities, THEME_TEMPERATURE) <= _nll(similarities, best) + 0.05
