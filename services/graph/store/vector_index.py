"""Per-owner in-memory embedding matrices for brute-force cosine search.

Each owner's embeddings live in one float32 matrix (rows grow by doubling, removals swap the
last row in), loaded lazily from the store on first use and updated by the store after each
committed write. A query is one matrix-vector product plus `argpartition`: at 100k x 384 that
is a few milliseconds, run in a worker thread (numpy releases the GIL) so the event loop stays
free. Least recently used owners are dropped beyond `max_owners`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

import numpy as np
import numpy.typing as npt

from services.common.errors import FailedPrecondition
from services.graph.domain.models import Similar, Vector

# Loads one owner's (insight id, normalised embedding) pairs from durable storage.
Loader = Callable[[str], Awaitable[Iterable[tuple[str, Vector]]]]


class EmbeddingMatrix:
    """One owner's embeddings: row i of `matrix` belongs to `ids[i]`. Not thread-safe: its
    owner entry's lock serialises every use."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._matrix: npt.NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def _check_dimensions(self, vector: Vector) -> None:
        if self.ids and vector.shape[0] != self._matrix.shape[1]:
            raise FailedPrecondition(
                f"embedding has {vector.shape[0]} dimensions; this graph uses "
                f"{self._matrix.shape[1]} (re-link every insight after changing the model)"
            )

    def upsert(self, insight_id: str, vector: Vector) -> None:
        self._check_dimensions(vector)
        row = self._rows.get(insight_id)
        if row is None:
            row = len(self.ids)
            if not self.ids:
                self._matrix = np.zeros((16, vector.shape[0]), dtype=np.float32)
            elif row == self._matrix.shape[0]:
                grown = np.zeros((row * 2, self._matrix.shape[1]), dtype=np.float32)
                grown[:row] = self._matrix
                self._matrix = grown
            self.ids.append(insight_id)
            self._rows[insight_id] = row
        self._matrix[row] = vector

    def remove(self, insight_id: str) -> None:
        row = self._rows.pop(insight_id, None)
        if row is None:
            return
        last = len(self.ids) - 1
        if row != last:
            moved = self.ids[last]
            self._matrix[row] = self._matrix[last]
            self.ids[row] = moved
            self._rows[moved] = row
        self.ids.pop()

    def top(self, query: Vector, limit: int, min_score: float, exclude_id: str) -> list[Similar]:
        count = len(self.ids)
        if count == 0 or limit <= 0:
            return []
        self._check_dimensions(query)
        scores = self._matrix[:count] @ query
        excluded = self._rows.get(exclude_id)
        if excluded is not None:
            scores[excluded] = -np.inf
        # The threshold usually leaves a few dozen candidates: partition only those.
        picked = np.flatnonzero(scores >= min_score)
        if len(picked) > limit:
            cut = len(picked) - limit
            picked = picked[np.argpartition(scores[picked], cut)[cut:]]
        ordered = picked[np.argsort(-scores[picked], kind="stable")]
        return [Similar(self.ids[i], float(scores[i])) for i in ordered]


class _Entry:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.loaded = False
        self.matrix = EmbeddingMatrix()


class VectorIndex:
    def __init__(self, loader: Loader, max_owners: int = 64) -> None:
        self._loader = loader
        self._max_owners = max_owners
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def _entry(self, owner_id: str) -> _Entry:
        entry = self._entries.get(owner_id)
        if entry is None:
            entry = self._entries[owner_id] = _Entry()
            for stale in list(self._entries)[: max(0, len(self._entries) - self._max_owners)]:
                if not self._entries[stale].lock.locked():
                    del self._entries[stale]
        self._entries.move_to_end(owner_id)
        return entry

    async def nearest(
        self, owner_id: str, query: Vector, limit: int, min_score: float, exclude_id: str
    ) -> list[Similar]:
        entry = self._entry(owner_id)
        async with entry.lock:
            if not entry.loaded:
                for insight_id, vector in await self._loader(owner_id):
                    with contextlib.suppress(FailedPrecondition):  # another model's: unusable
                        entry.matrix.upsert(insight_id, vector)
                entry.loaded = True
            return await asyncio.to_thread(entry.matrix.top, query, limit, min_score, exclude_id)

    async def upsert(self, owner_id: str, insight_id: str, vector: Vector | None) -> None:
        """Call after the write committed. An owner not loaded yet is left to load from storage
        (a load in flight holds the lock, so this update is applied after it)."""
        entry = self._entry(owner_id)
        async with entry.lock:
            if not entry.loaded:
                return
            entry.matrix.remove(insight_id)
            if vector is not None:
                with contextlib.suppress(FailedPrecondition):  # another model's: unusable
                    entry.matrix.upsert(insight_id, vector)

    async def remove(self, owner_id: str, insight_id: str) -> None:
        await self.upsert(owner_id, insight_id, None)

    def forget(self) -> None:
        self._entries.clear()
