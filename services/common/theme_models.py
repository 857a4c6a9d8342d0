"""People's own theme classifiers: the artefact format and the registry they live in.

The assistant's training job writes them, the nlp service reads them (so a new model is used
without a restart). An artefact is plain JSON — class names, weights, intercepts — never a pickle:
loading one can only ever produce numbers. Every promoted model gets the next version; older ones
stay in a short history so a bad promotion can be inspected or rolled back.

Redis keys, per owner:
    models:theme:<owner>            the current artefact (JSON)
    models:theme:<owner>:version    its version, read on every Analyze to notice a new model cheaply
    models:theme:<owner>:history    the last HISTORY artefacts, newest first
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import Unavailable

HISTORY = 10


@dataclass(frozen=True)
class ThemeModel:
    """A linear softmax classifier over sentence embeddings."""

    version: int
    classes: list[str]
    # One row per class (a two-class model keeps scikit-learn's single row for classes[1]).
    coef: list[list[float]]
    intercept: list[float]
    examples: int
    accuracy: float
    trained_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> ThemeModel:
        data = json.loads(raw)
        model = cls(
            version=int(data["version"]),
            classes=[str(c) for c in data["classes"]],
            coef=[[float(v) for v in row] for row in data["coef"]],
            intercept=[float(v) for v in data["intercept"]],
            examples=int(data["examples"]),
            accuracy=float(data["accuracy"]),
            trained_at=str(data["trained_at"]),
        )
        rows = 1 if len(model.classes) == 2 else len(model.classes)
        if len(model.classes) < 2 or len(model.coef) != rows or len(model.intercept) != rows:
            raise ValueError("theme model: shapes do not match its classes")
        return model

    @functools.cached_property
    def _arrays(self) -> tuple[Vector, Vector]:
        # Made once per loaded model: converting the lists on every call would cost more than
        # the product itself.
        return np.asarray(self.coef, dtype=np.float64), np.asarray(self.intercept, np.float64)

    def predict(self, embedding: Sequence[float]) -> tuple[str, float]:
        """The most likely theme and its probability."""
        coef, intercept = self._arrays
        return linear_softmax(self.classes, coef, intercept, np.asarray(embedding, np.float64))


Vector = npt.NDArray[np.float64]


def linear_softmax(
    classes: Sequence[str], coef: Vector, intercept: Vector, embedding: Vector
) -> tuple[str, float]:
    """The most likely class of a linear softmax classifier (scikit-learn's multinomial logistic
    regression layout; a two-class model has one row, for classes[1]) and its probability.
    Dimensions beyond the shorter of the weights and the embedding are ignored."""
    width = min(coef.shape[1], embedding.shape[0])
    scores = coef[:, :width] @ embedding[:width] + intercept
    if len(classes) == 2:
        p1 = 1.0 / (1.0 + math.exp(-float(scores[0])))
        return (classes[1], p1) if p1 >= 0.5 else (classes[0], 1.0 - p1)
    weights = np.exp(scores - scores.max())
    best = int(np.argmax(weights))
    return classes[best], float(weights[best] / weights.sum())


def _key(owner_id: str) -> str:
    return f"models:theme:{owner_id}"


class ThemeModelRegistry:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def current_version(self, owner_id: str) -> int:
        try:
            raw = await self._redis.get(f"{_key(owner_id)}:version")
        except RedisError as exc:
            raise Unavailable("model registry is unavailable") from exc
        return int(raw) if raw else 0

    async def current(self, owner_id: str) -> ThemeModel | None:
        try:
            raw = await self._redis.get(_key(owner_id))
        except RedisError as exc:
            raise Unavailable("model registry is unavailable") from exc
        return ThemeModel.from_json(raw) if raw else None

    async def promote(self, owner_id: str, model: ThemeModel) -> None:
        key = _key(owner_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, model.to_json())
                pipe.set(f"{key}:version", model.version)
                pipe.lpush(f"{key}:history", model.to_json())
                pipe.ltrim(f"{key}:history", 0, HISTORY - 1)
                await pipe.execute()
        except RedisError as exc:
            raise Unavailable("model registry is unavailable") from exc
