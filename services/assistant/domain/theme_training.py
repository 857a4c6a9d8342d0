"""Training a person's theme classifier on sentence embeddings: the split, the fit, the metric
and the promotion rule. Pure computation (numpy, scikit-learn); no I/O.

- Enough data: at least MIN_EXAMPLES examples in at least two themes, and at least one theme
  with two examples (something must be held out). Otherwise training fails with a reason a
  person can act on.
- Split: per theme, the examples are ordered by a hash of their insight id and the first
  max(1, round(25%)) are held out (never the last one of a theme). The split is deterministic
  and stays mostly the same as examples are added, so runs are comparable.
- Model: multinomial logistic regression on the L2-normalised embeddings
  (services/common/theme_fitting.py, shared with the nlp service's default themes).
  A full refit takes milliseconds for thousands of examples (see bench/assistant), so every run
  refits from all examples rather than updating incrementally, which also lets a theme the
  person dropped disappear from the model.
- Metric: accuracy on the held-out examples, of the current model (the promoted one, or the
  nlp's default classifier) and of a model fitted on the rest.
- Promotion: only when the new model is not worse. The promoted artefact is then refitted on
  every example (held-out ones included), so the few examples a person gives all count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from services.common.theme_fitting import Matrix, fit_linear_softmax

HOLDOUT_FRACTION = 0.25
MIN_EXAMPLES = 4


class NotEnoughExamples(Exception):
    """Training cannot produce a model that could be evaluated; the message says why."""


@dataclass(frozen=True)
class Split:
    train: list[int]
    held_out: list[int]


@dataclass(frozen=True)
class LinearModel:
    classes: list[str]
    coef: list[list[float]]
    intercept: list[float]

    def predict(self, embeddings: Matrix) -> list[str]:
        scores = embeddings @ np.asarray(self.coef).T + np.asarray(self.intercept)
        if len(self.classes) == 2:
            return [self.classes[1] if s > 0 else self.classes[0] for s in scores[:, 0]]
        return [self.classes[int(i)] for i in np.argmax(scores, axis=1)]


def check_enough(themes: Sequence[str]) -> None:
    counts: dict[str, int] = {}
    for theme in themes:
        counts[theme] = counts.get(theme, 0) + 1
    found = f"found {len(themes)} in {len(counts)} theme{'' if len(counts) == 1 else 's'}"
    if len(themes) < MIN_EXAMPLES or len(counts) < 2:
        raise NotEnoughExamples(
            f"need at least {MIN_EXAMPLES} insights whose theme you set, in at least 2 themes; "
            f"{found}"
        )
    if max(counts.values()) < 2:
        raise NotEnoughExamples(f"need at least 2 insights in one of the themes; {found}")


def _rank(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def stratified_split(keys: Sequence[str], themes: Sequence[str]) -> Split:
    by_theme: dict[str, list[int]] = {}
    for index, theme in enumerate(themes):
        by_theme.setdefault(theme, []).append(index)
    held_out: list[int] = []
    for members in by_theme.values():
        if len(members) < 2:
            continue
        ordered = sorted(members, key=lambda i: _rank(keys[i]))
        count = min(len(members) - 1, max(1, round(HOLDOUT_FRACTION * len(members))))
        held_out += ordered[:count]
    chosen = set(held_out)
    return Split([i for i in range(len(keys)) if i not in chosen], sorted(held_out))


def fit(embeddings: Matrix, themes: Sequence[str]) -> LinearModel:
    fitted = fit_linear_softmax(embeddings, themes)
    return LinearModel(fitted.classes, fitted.coef, fitted.intercept)


def accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    if not truth:
        return 0.0
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def accuracy_of(predict: Callable[[Matrix], list[str]], x: Matrix, truth: Sequence[str]) -> float:
    return accuracy(predict(x), truth)


def should_promote(accuracy_before: float, accuracy_after: float) -> bool:
    """A new model replaces the current one only when it is not worse on the held-out part."""
    return accuracy_after >= accuracy_before
