"""The graph service's domain types: plain data, no gRPC or database types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

# A sentence embedding, L2-normalised before it is stored.
Vector = npt.NDArray[np.float32]


class RelationType(Enum):
    SEMANTIC = "SEMANTIC"
    SHARED_ENTITY = "SHARED_ENTITY"
    MANUAL = "MANUAL"

    @property
    def automatic(self) -> bool:
        return self is not RelationType.MANUAL


AUTOMATIC_TYPES = (RelationType.SEMANTIC, RelationType.SHARED_ENTITY)


@dataclass(frozen=True, eq=False)
class Node:
    """One insight in its owner's graph. `embedding` is None until the pipeline has one."""

    insight_id: str
    owner_id: str
    label: str
    theme: str
    embedding: Vector | None = None
    entities: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relationship:
    """A directed, explained link. At most one per unordered pair and type."""

    id: str
    owner_id: str
    source_id: str
    target_id: str
    type: RelationType
    score: float
    reason: str
    create_time: dt.datetime

    def other_end(self, insight_id: str) -> str:
        return self.target_id if self.source_id == insight_id else self.source_id


@dataclass(frozen=True)
class Similar:
    """A nearest-neighbour hit: an insight and its cosine similarity to the query."""

    insight_id: str
    score: float


@dataclass(frozen=True)
class FeedbackStats:
    """What the person's feedback says about similarity, summed per kind."""

    positive_count: int = 0
    positive_sum: float = 0.0
    negative_count: int = 0
    negative_sum: float = 0.0


@dataclass(frozen=True)
class InsightSummary:
    """What the insight service tells about one of the caller's insights."""

    insight_id: str
    text: str
    theme: str


@dataclass(frozen=True)
class MindMapNode:
    insight_id: str
    label: str
    theme: str
    depth: int


@dataclass(frozen=True)
class MindMapEdge:
    source_id: str
    target_id: str
    type: RelationType
    score: float


@dataclass(frozen=True)
class MindMap:
    root: MindMapNode
    nodes: tuple[MindMapNode, ...]
    edges: tuple[MindMapEdge, ...]
