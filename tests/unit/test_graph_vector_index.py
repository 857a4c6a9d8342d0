"""The in-memory embedding matrix behind SqliteGraphStore's similarity search."""

from __future__ import annotations

import numpy as np
import pytest

from services.common.errors import FailedPrecondition
from services.graph.domain.models import Vector
from services.graph.store.vector_index import EmbeddingMatrix


def unit(seed: int, dims: int = 16) -> Vector:
    raw = np.random.default_rng(seed).normal(size=dims).astype(np.float32)
    result: Vector = raw / np.linalg.norm(raw)
    return result


def test_top_matches_a_full_sort_across_growth_and_removals() -> None:
    matrix = EmbeddingMatrix()
    vectors = {f"n{i}": unit(i) for i in range(100)}
    for name, vector in vectors.items():
        matrix.upsert(name, vector)
    for name in ("n3", "n50", "n99"):
        matrix.remove(name)
        del vectors[name]
    matrix.upsert("n7", unit(1000))
    vectors["n7"] = unit(1000)
    query = unit(5)
    expected = sorted(vectors, key=lambda n: -float(vectors[n] @ query))
    got = matrix.top(query, 10, -1.0, "n5")
    assert [hit.insight_id for hit in got] == [n for n in expected if n != "n5"][:10]
    assert len(matrix) == 97


def test_top_applies_the_minimum_score_and_small_limits() -> None:
    matrix = EmbeddingMatrix()
    matrix.upsert("same", unit(1))
    matrix.upsert("other", -unit(1))
    assert [h.insight_id for h in matrix.top(unit(1), 5, 0.5, "")] == ["same"]
    assert matrix.top(unit(1), 0, 0.0, "") == []
    assert EmbeddingMatrix().top(unit(1), 5, 0.0, "") == []


def test_other_dimensions_are_refused() -> None:
    matrix = EmbeddingMatrix()
    matrix.upsert("a", unit(1, 16))
    with pytest.raises(FailedPrecondition):
        matrix.upsert("b", unit(1, 8))
    with pytest.raises(FailedPrecondition):
        matrix.top(unit(1, 8), 3, 0.0, "")
