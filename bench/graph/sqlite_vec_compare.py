"""The same k-nearest query through sqlite-vec (vec0, brute force in C) for comparison with the
numpy matrix of SqliteGraphStore. sqlite-vec is not a dependency: install it to run this.

Run: python -m bench.graph.sqlite_vec_compare [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import time

import numpy as np

from bench.common import summary
from bench.graph.dataset import CLUSTER_SIZE, DIMENSIONS, ClusteredVectors
from services.graph.store.vector_index import EmbeddingMatrix


def compare(size: int, queries: int) -> None:
    sqlite_vec = importlib.import_module("sqlite_vec")
    vectors = ClusteredVectors(max(1, size // CLUSTER_SIZE))
    data = vectors.sample(np.arange(size) % len(vectors.centroids))
    probes = vectors.sample(np.random.default_rng(3).integers(0, len(vectors.centroids), queries))
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.execute(
        "CREATE VIRTUAL TABLE v USING vec0(owner_id TEXT PARTITION KEY, "
        f"embedding float[{DIMENSIONS}] distance_metric=cosine)"
    )
    db.executemany(
        "INSERT INTO v (rowid, owner_id, embedding) VALUES (?, 'u', ?)",
        ((i, row.tobytes()) for i, row in enumerate(data)),
    )
    matrix = EmbeddingMatrix()
    for i, row in enumerate(data):
        matrix.upsert(str(i), row)
    timings: dict[str, list[float]] = {"sqlite-vec": [], "numpy": []}
    for probe in probes:
        started = time.perf_counter()
        db.execute(
            "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 10 AND owner_id = 'u'",
            (probe.tobytes(),),
        ).fetchall()
        timings["sqlite-vec"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        matrix.top(probe, 10, 0.5, "")
        timings["numpy"].append((time.perf_counter() - started) * 1000)
    for name, values in timings.items():
        print(summary(f"{size} top-10 {name}", values))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph.sqlite_vec_compare")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    for size in args.sizes:
        compare(size, args.queries)


if __name__ == "__main__":
    main()
