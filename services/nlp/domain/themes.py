"""Themes, until a person has a trained classifier: a multinomial logistic regression fitted,
when nlp starts, on the embeddings of THEME_EXAMPLES (27 short notes and descriptions per theme,
services/nlp/domain/theme_examples.py), its probabilities calibrated by temperature scaling.

Judged on 103 labelled notes written apart from the examples (tests/fixtures/themes_heldout.json,
re-checked by tests/unit/test_nlp_theme_calibration.py): 96 right (93 %). The nearest-prototype
rule used until 2026-11-27 (each theme the mean of three descriptions) got 85 (83 %): it called
"Call the bank about the mortgage rate" Learning and "Graph databases like Neo4j make
relationship queries fast" Personal.

Logistic regression's own probabilities are far too modest here (C = 10 on unit vectors keeps the
weights small: a mean top probability near 0.6 where ~90 % of answers are right). Scores divided
by THEME_TEMPERATURE = 0.4 make them honest: 0.4 is within 0.005 of the lowest negative
log-likelihood of the examples' true themes in 5-fold cross-validation (so the held-out notes play
no part in choosing it), and on the held-out notes the mean confidence is then 0.93 for 93 %
right (0.95 when right, 0.65 when wrong).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from services.common.theme_fitting import LinearSoftmax, fit_linear_softmax, normalised
from services.common.theme_models import linear_softmax
from services.nlp.domain.models import Theme

THEME_TEMPERATURE = 0.4


class DefaultThemes:
    """The classifier every insight gets unless its owner has promoted one of their own."""

    def __init__(self, model: LinearSoftmax, temperature: float = THEME_TEMPERATURE) -> None:
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        # Scores divided by T (temperature scaling): the same choices, honest probabilities.
        self._classes = list(model.classes)
        self._coef = np.asarray(model.coef, dtype=np.float64) / temperature
        self._intercept = np.asarray(model.intercept, dtype=np.float64) / temperature

    @classmethod
    def fit(
        cls,
        embeddings: Mapping[str, Sequence[Sequence[float]]],
        temperature: float = THEME_TEMPERATURE,
    ) -> DefaultThemes:
        """`embeddings`: theme -> the embeddings of its examples."""
        if len(embeddings) < 2:
            raise ValueError("at least two themes are needed")
        themes = [name for name, vectors in embeddings.items() for _ in vectors]
        vectors = [vector for name in embeddings for vector in embeddings[name]]
        fitted = fit_linear_softmax(normalised(vectors), themes)
        return cls(fitted, temperature)

    @property
    def names(self) -> list[str]:
        return list(self._classes)

    def classify(self, embedding: Sequence[float]) -> Theme:
        (unit,) = normalised([embedding])
        name, confidence = linear_softmax(self._classes, self._coef, self._intercept, unit)
        return Theme(name=name, confidence=confidence)
