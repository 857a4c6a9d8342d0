"""Questions other services ask of a person's graph: what is near this embedding, how many
relationships of each kind, and where the relationship scorer stands."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import InvalidArgument
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.models import Node, RelationType
from services.graph.domain.vectors import normalized
from services.graph.store.port import GraphStore

MAX_SIMILAR = 200


@dataclass(frozen=True)
class SimilarNode:
    node: Node
    score: float


@dataclass(frozen=True)
class ThresholdReport:
    threshold: float
    positive_examples: int
    negative_examples: int


class OwnerQueries:
    def __init__(self, store: GraphStore, feedback: FeedbackLearner) -> None:
        self._store = store
        self._feedback = feedback

    async def similar(
        self, owner_id: str, embedding: list[float], limit: int, exclude: list[str]
    ) -> list[SimilarNode]:
        if not 1 <= limit <= MAX_SIMILAR:
            raise InvalidArgument.field("limit", f"must be between 1 and {MAX_SIMILAR}")
        query = normalized(embedding)
        if query is None:
            raise InvalidArgument.field("embedding", "must be a non-zero vector")
        excluded = set(exclude)
        # The store excludes one id itself; over-fetch by the rest and drop them here.
        hits = await self._store.nearest(
            owner_id, query, limit + len(excluded), 0.0, exclude[0] if exclude else ""
        )
        hits = [hit for hit in hits if hit.insight_id not in excluded][:limit]
        nodes = {
            node.insight_id: node
            for node in await self._store.get_nodes(owner_id, [hit.insight_id for hit in hits])
        }
        return [
            SimilarNode(nodes[hit.insight_id], hit.score) for hit in hits if hit.insight_id in nodes
        ]

    async def relationship_counts(self, owner_id: str) -> dict[RelationType, int]:
        return await self._store.count_relationships(owner_id)

    async def threshold(self, owner_id: str) -> ThresholdReport:
        stats = await self._store.feedback_stats(owner_id)
        return ThresholdReport(
            threshold=await self._feedback.threshold(owner_id),
            positive_examples=stats.positive_count,
            negative_examples=stats.negative_count,
        )
