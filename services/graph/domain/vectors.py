"""Embedding arithmetic: normalising, cosine similarity, and the bytes a store keeps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.common.errors import InvalidArgument
from services.graph.domain.models import Vector

MAX_DIMENSIONS = 4096


def normalized(values: Sequence[float], field: str = "embedding") -> Vector | None:
    """The unit-length float32 vector of `values`; None for an empty or all-zero embedding."""
    if len(values) == 0:
        return None
    if len(values) > MAX_DIMENSIONS:
        raise InvalidArgument.field(field, f"has more than {MAX_DIMENSIONS} dimensions")
    vector = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        raise InvalidArgument.field(field, "must contain finite numbers only")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return None
    result: Vector = (vector / norm).astype(np.float32)
    return result


def cosine(a: Vector | None, b: Vector | None) -> float | None:
    """Cosine similarity of two normalised vectors; None when either is missing or they differ
    in dimension (embeddings of different models are not comparable)."""
    if a is None or b is None or a.shape != b.shape:
        return None
    return float(np.dot(a, b))


def clip01(value: float) -> float:
    return min(1.0, max(0.0, value))


def to_blob(vector: Vector) -> bytes:
    return vector.astype("<f4").tobytes()


def from_blob(blob: bytes) -> Vector:
    result: Vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return result
