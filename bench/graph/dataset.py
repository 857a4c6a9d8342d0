"""A synthetic graph for one person: clustered 384-d unit vectors, entities, cluster edges.

Vectors are centroid + noise (cosine within a cluster ≈ 0.6, across ≈ 0), seeded straight into
SqliteGraphStore's file in one transaction: a bulk load, not N durable single writes.
"""

from __future__ import annotations

import pathlib
import sqlite3
import uuid

import numpy as np
import numpy.typing as npt

from services.common.clock import to_micros, utc_now
from services.graph.domain.models import Node
from services.graph.domain.reasons import term_key
from services.graph.store.sqlite_rows import NODE_COLUMNS, RELATIONSHIP_COLUMNS, node_row

OWNER = "bench-user"
DIMENSIONS = 384
CLUSTER_SIZE = 50
NOISE = 0.8
EDGES_PER_NODE = 5
ENTITY_VOCABULARY = [f"Entity {i}" for i in range(2000)]

Matrix = npt.NDArray[np.float32]


class ClusteredVectors:
    def __init__(self, clusters: int, seed: int = 7) -> None:
        self._rng = np.random.default_rng(seed)
        centroids = self._rng.normal(size=(clusters, DIMENSIONS)).astype(np.float32)
        self.centroids: Matrix = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def sample(self, cluster_of: npt.NDArray[np.int64]) -> Matrix:
        noise = self._rng.normal(size=(len(cluster_of), DIMENSIONS)).astype(np.float32)
        raw = self.centroids[cluster_of] + NOISE * noise / np.sqrt(DIMENSIONS)
        result: Matrix = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
        return result

    def entities(self, count: int) -> list[tuple[str, ...]]:
        picks = self._rng.integers(0, len(ENTITY_VOCABULARY), size=(count, 2))
        return [(ENTITY_VOCABULARY[a], ENTITY_VOCABULARY[b]) for a, b in picks]


def seed(path: pathlib.Path, size: int, vectors: ClusteredVectors) -> list[str]:
    """Writes `size` nodes and their cluster edges; returns the node ids."""
    ids = [f"n{i:07d}" for i in range(size)]
    clusters = np.arange(size) % len(vectors.centroids)
    embeddings = vectors.sample(clusters)
    entities = vectors.entities(size)
    now = to_micros(utc_now())
    rng = np.random.default_rng(11)
    members: dict[int, list[int]] = {}
    for index, cluster in enumerate(clusters):
        members.setdefault(int(cluster), []).append(index)
    with sqlite3.connect(path) as db:
        db.executemany(
            # Constant column lists; every value is a bound parameter.
            f"INSERT INTO nodes ({NODE_COLUMNS}, update_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                (*node_row(Node(i, OWNER, f"insight {i}", "bench", e, ent, ())), now)
                for i, e, ent in zip(ids, embeddings, entities, strict=True)
            ),
        )
        db.executemany(
            "INSERT OR IGNORE INTO node_entities (owner_id, entity_key, insight_id) VALUES (?,?,?)",
            ((OWNER, term_key(e), i) for i, ent in zip(ids, entities, strict=True) for e in ent),
        )
        db.executemany(
            f"INSERT OR IGNORE INTO relationships ({RELATIONSHIP_COLUMNS}) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, 'SEMANTIC', ?, 'similar meaning', ?)",
            _edges(ids, clusters, members, rng, now),
        )
    return ids


def _edges(
    ids: list[str],
    clusters: npt.NDArray[np.int64],
    members: dict[int, list[int]],
    rng: np.random.Generator,
    now: int,
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for index, cluster in enumerate(clusters):
        peers = members[int(cluster)]
        for other in rng.choice(peers, size=min(EDGES_PER_NODE, len(peers)), replace=False):
            if other == index:
                continue
            a, b = ids[index], ids[int(other)]
            lo, hi = min(a, b), max(a, b)
            score = float(rng.uniform(0.5, 0.9))
            rows.append((uuid.uuid4().hex, OWNER, a, b, lo, hi, score, now))
    return rows
