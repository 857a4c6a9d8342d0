"""Fitting a theme classifier on sentence embeddings: multinomial logistic regression
(scikit-learn, lbfgs), shared by the nlp service's default themes and the assistant's training of
a person's own. Its own module so services that only apply models never import scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

# Embeddings are unit vectors, so weights need room to separate close themes. On the default
# themes' examples 5-fold cross-validation scores C = 1...100 within 1.5 points of each other;
# for a person's handful of examples C = 10 keeps the model confident enough to beat the default.
REGULARISATION_C = 10.0

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LinearSoftmax:
    """Weights in scikit-learn's layout: one row per class (one row, for classes[1], when there
    are two)."""

    classes: list[str]
    coef: list[list[float]]
    intercept: list[float]


def normalised(vectors: Sequence[Sequence[float]]) -> Matrix:
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def fit_linear_softmax(
    embeddings: Matrix, themes: Sequence[str], c: float = REGULARISATION_C
) -> LinearSoftmax:
    classifier = LogisticRegression(C=c, max_iter=2000)
    classifier.fit(embeddings, list(themes))
    return LinearSoftmax(
        classes=[str(name) for name in classifier.classes_],
        coef=[[float(v) for v in row] for row in classifier.coef_],
        intercept=[float(v) for v in classifier.intercept_],
    )
