"""Themes, until a person has a trained classifier: the nearest of a fixed set of prototypes.

Each theme is described by a few sentences; its prototype is the normalised mean of their
embeddings. A text's theme is the prototype nearest by cosine similarity, and its confidence is
a softmax over all the similarities,

    p(theme_i) = exp(cos_i / T) / sum_j exp(cos_j / T),    T = THEME_TEMPERATURE

so the confidences of all themes sum to one. Raw cosines of all-MiniLM-L6-v2 between a short text
and a topic prototype are squeezed into roughly -0.1..0.6, so the raw cosine is no probability;
with T = 0.025 a lead of 0.05 over the runner-up becomes odds of e^2 ~ 7:1.

T was fitted by temperature scaling (minimising the negative log-likelihood of the true theme) on
40 hand-labelled short insights, 4 per theme, written apart from the descriptions below; they live
in tests/unit/test_nlp_theme_calibration.py, which re-checks the fit. There the prototypes are
right 87.5% of the time; the NLL optimum is T = 0.02 (NLL 0.284, mean top confidence 0.89); we use
the slightly softer T = 0.025 (NLL 0.294, mean top confidence 0.86) because real insights are
messier than a clean labelled set, and a model fitted on 40 examples should err towards doubt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from services.nlp.domain.models import Theme

THEME_TEMPERATURE = 0.025

THEME_DESCRIPTIONS: Mapping[str, tuple[str, ...]] = {
    "Technology": (
        "Software, computers, smartphones, gadgets and the internet.",
        "Programming, apps, artificial intelligence and new devices from tech companies.",
        "Cloud services, cybersecurity, data and digital products.",
    ),
    "Science": (
        "Scientific research, experiments and discoveries.",
        "Physics, chemistry, biology, astronomy and the natural world.",
        "A study published by researchers found new evidence about how nature works.",
    ),
    "Business": (
        "Companies, markets, startups, sales and customers.",
        "Money, investing, the economy, prices and profits.",
        "Strategy, management, negotiations and growing a business.",
    ),
    "Health": (
        "Health, medicine, doctors, illness and treatment.",
        "Exercise, fitness, sleep, nutrition and mental wellbeing.",
        "Symptoms, hospitals, therapy and staying healthy.",
    ),
    "Food & Cooking": (
        "Recipes, cooking, baking and ingredients.",
        "Restaurants, meals, flavours, dishes and what to eat.",
        "Preparing dinner in the kitchen with fresh vegetables and spices.",
    ),
    "Travel": (
        "Travelling, trips, holidays and visiting other countries and cities.",
        "Flights, hotels, trains, sightseeing and packing for a journey.",
        "Exploring a new place, its landmarks, beaches and mountains.",
    ),
    "Arts & Culture": (
        "Music, films, books, painting and theatre.",
        "Artists, novels, concerts, museums and exhibitions.",
        "Creative work, design, photography, poetry and cultural traditions.",
    ),
    "Personal": (
        "Family, friends, relationships and everyday life.",
        "Feelings, memories, personal reflections and life events.",
        "Conversations with my partner, my kids and the people I care about.",
    ),
    "Learning": (
        "Studying, courses, school, university and education.",
        "Learning a new skill or language, reading to understand a subject.",
        "Lessons, teachers, homework, exams and notes from a lecture.",
    ),
    "Productivity": (
        "Getting things done, to-do lists, planning and priorities.",
        "Time management, habits, focus, routines and avoiding procrastination.",
        "Organising work, meetings, goals, deadlines and workflows.",
    ),
}


def softmax(scores: Sequence[float], temperature: float = THEME_TEMPERATURE) -> list[float]:
    if not scores:
        return []
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    top = max(scores)
    weights = [math.exp((score - top) / temperature) for score in scores]
    total = sum(weights)
    return [weight / total for weight in weights]


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else list(vector)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


class ThemePrototypes:
    """The prototype of every theme; built once from the embeddings of their descriptions."""

    def __init__(self, prototypes: Mapping[str, Sequence[float]]) -> None:
        if not prototypes:
            raise ValueError("at least one theme is needed")
        self._names = list(prototypes)
        self._vectors = [_unit(prototypes[name]) for name in self._names]

    @classmethod
    def from_description_embeddings(
        cls, embeddings: Mapping[str, Sequence[Sequence[float]]]
    ) -> ThemePrototypes:
        means = {
            name: [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]
            for name, vectors in embeddings.items()
        }
        return cls(means)

    def similarities(self, embedding: Sequence[float]) -> dict[str, float]:
        unit = _unit(embedding)
        return {name: _dot(unit, v) for name, v in zip(self._names, self._vectors, strict=True)}

    def classify(self, embedding: Sequence[float]) -> Theme:
        similarities = self.similarities(embedding)
        probabilities = softmax(list(similarities.values()))
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return Theme(name=self._names[best], confidence=probabilities[best])
