"""The graph service's storage port. Adapters: SqliteGraphStore (embedded default) and, for the
scale-out deployment, a Neo4j adapter.

The port speaks in graph terms so that Cypher fits it directly: (:Insight {owner_id, insight_id,
label, theme, embedding, entities, keywords}) nodes, typed relationships carrying score, reason and
create time, suppressed pairs (automatic links the person deleted), per-owner feedback and
threshold. `nearest` maps to a vector index query, `sharing_entities` to a match on entity keys.
Every method is scoped by owner; nothing ever crosses from one owner's graph to another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.graph.domain.models import (
    FeedbackStats,
    Node,
    Relationship,
    RelationType,
    Similar,
    Vector,
)


class GraphStore(Protocol):
    async def open(self) -> None:
        """Connects, and creates or migrates the schema."""

    async def close(self) -> None: ...

    # --- nodes ---
    async def get_node(self, owner_id: str, insight_id: str) -> Node | None: ...

    async def get_nodes(self, owner_id: str, insight_ids: Sequence[str]) -> list[Node]:
        """The nodes that exist among `insight_ids`, in no particular order."""

    async def add_node_if_absent(self, node: Node) -> bool:
        """Stores `node` unless one with its id exists (which is left as it is); True if added."""

    async def save_node_links(self, node: Node, automatic: Sequence[Relationship]) -> int:
        """In one transaction: upserts `node`, deletes every automatic relationship touching it,
        and writes `automatic` (each must touch it), skipping pairs suppressed for that type.
        Manual relationships stay. Returns how many automatic relationships were written."""

    async def delete_node(self, owner_id: str, insight_id: str) -> bool:
        """Removes the node, every relationship and suppressed pair touching it. Idempotent."""

    # --- search ---
    async def nearest(
        self, owner_id: str, embedding: Vector, limit: int, min_score: float, exclude_id: str
    ) -> list[Similar]:
        """Up to `limit` of the owner's embedded nodes (never `exclude_id`) with cosine similarity
        to the normalised `embedding` ≥ `min_score`, most similar first."""

    async def sharing_entities(
        self, owner_id: str, entity_keys: Sequence[str], exclude_id: str, limit: int
    ) -> list[Node]:
        """Up to `limit` nodes naming any of `entity_keys` (see reasons.term_key), those sharing
        the most first."""

    # --- relationships ---
    async def get_relationship(
        self, owner_id: str, relationship_id: str
    ) -> Relationship | None: ...

    async def relationships_touching(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        """Every relationship with either end in `insight_ids`, in no particular order."""

    async def relationships_among(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        """Every relationship with both ends in `insight_ids`."""

    async def add_manual_relationship(self, relationship: Relationship) -> None:
        """Stores a MANUAL relationship; AlreadyExists when the pair (either direction) has one."""

    async def delete_relationship(
        self, owner_id: str, relationship_id: str, *, suppress: bool
    ) -> bool:
        """Removes it; with `suppress`, in the same transaction remembers its pair and type so no
        automatic relationship of that type is ever written for the pair again."""

    async def suppressed_partners(
        self, owner_id: str, insight_id: str
    ) -> dict[RelationType, set[str]]:
        """For each type, the insights whose pair with `insight_id` is suppressed."""

    # --- feedback ---
    async def add_feedback(self, owner_id: str, positive: bool, similarity: float) -> FeedbackStats:
        """Records one example and returns the owner's totals including it."""

    async def feedback_stats(self, owner_id: str) -> FeedbackStats:
        """The owner's feedback totals (zeros when there is none)."""

    async def count_relationships(self, owner_id: str) -> dict[RelationType, int]:
        """How many relationships of each type the owner has (types with none left out)."""

    async def get_threshold(self, owner_id: str) -> float | None:
        """The owner's learned threshold; None when none was set yet."""

    async def set_threshold(self, owner_id: str, threshold: float) -> None: ...
