"""Linking: an insight's node and its automatic relationships, recomputed on every (re-)link.

- SEMANTIC: to the owner's most similar insights (at most MAX_SEMANTIC_LINKS) whose cosine
  similarity reaches the owner's threshold (feedback.py); score = the cosine clipped to 0..1;
  reason "similar meaning (0.72); shared keywords: graph databases".
- SHARED_ENTITY: to the insights naming the same entities, case-insensitively (at most
  MAX_ENTITY_LINKS); score = the Ochiai overlap of the entity sets (reasons.entity_overlap);
  reason "shared entities: Apple, Berlin".

A pair and type the person deleted (suppressed) is never linked again. Re-linking replaces the
insight's automatic relationships; manual ones stay.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.common.clock import utc_now
from services.common.errors import FieldViolation, InvalidArgument
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.labels import short_label
from services.graph.domain.models import Node, Relationship, RelationType
from services.graph.domain.nodes import STORED_LABEL_CHARS
from services.graph.domain.reasons import (
    distinct_keys,
    entity_overlap,
    entity_reason,
    semantic_reason,
    shared_terms,
)
from services.graph.domain.vectors import clip01, normalized
from services.graph.store.port import GraphStore

MAX_SEMANTIC_LINKS = 10
MAX_ENTITY_LINKS = 10
ENTITY_CANDIDATES = 50
MAX_TERMS = 100


@dataclass(frozen=True)
class InsightFacts:
    """What the pipeline knows about an insight once it is enriched."""

    insight_id: str
    owner_id: str
    label: str
    theme: str
    embedding: Sequence[float]
    entities: Sequence[str]
    keywords: Sequence[str]


def node_from_facts(facts: InsightFacts) -> Node:
    """The node to store for an enriched insight; InvalidArgument on malformed facts."""
    problems = [
        FieldViolation(name, "is required")
        for name, value in (("insight_id", facts.insight_id), ("owner_id", facts.owner_id))
        if not value
    ]
    problems += [
        FieldViolation(name, f"has more than {MAX_TERMS} items")
        for name, value in (("entities", facts.entities), ("keywords", facts.keywords))
        if len(value) > MAX_TERMS
    ]
    if problems:
        raise InvalidArgument(problems)
    return Node(
        insight_id=facts.insight_id,
        owner_id=facts.owner_id,
        label=short_label(facts.label, STORED_LABEL_CHARS),
        theme=facts.theme,
        embedding=normalized(facts.embedding),
        entities=tuple(" ".join(e.split()) for e in facts.entities if e.strip()),
        keywords=tuple(" ".join(k.split()) for k in facts.keywords if k.strip()),
    )


class Linker:
    def __init__(self, store: GraphStore, feedback: FeedbackLearner) -> None:
        self._store = store
        self._feedback = feedback

    async def link(self, facts: InsightFacts) -> int:
        """Upserts the node, recomputes its automatic relationships; returns how many it has."""
        node = node_from_facts(facts)
        return await self._store.save_node_links(node, await self.related(node))

    async def related(self, node: Node) -> list[Relationship]:
        """The detection step: the automatic relationships `node` should have now."""
        suppressed = await self._store.suppressed_partners(node.owner_id, node.insight_id)
        edges = await self._semantic(node, suppressed[RelationType.SEMANTIC])
        return edges + await self._shared_entities(node, suppressed[RelationType.SHARED_ENTITY])

    async def remove(self, owner_id: str, insight_id: str) -> None:
        """Deletes the node and everything touching it; removing a missing one is no error."""
        if not owner_id or not insight_id:
            raise InvalidArgument.field("insight_id" if owner_id else "owner_id", "is required")
        await self._store.delete_node(owner_id, insight_id)

    async def _semantic(self, node: Node, suppressed: set[str]) -> list[Relationship]:
        if node.embedding is None:
            return []
        threshold = await self._feedback.threshold(node.owner_id)
        hits = await self._store.nearest(
            node.owner_id,
            node.embedding,
            MAX_SEMANTIC_LINKS + len(suppressed),
            threshold,
            node.insight_id,
        )
        hits = [hit for hit in hits if hit.insight_id not in suppressed][:MAX_SEMANTIC_LINKS]
        others = await self._store.get_nodes(node.owner_id, [hit.insight_id for hit in hits])
        keywords = {other.insight_id: other.keywords for other in others}
        return [
            _edge(
                node,
                hit.insight_id,
                RelationType.SEMANTIC,
                clip01(hit.score),
                semantic_reason(
                    hit.score, shared_terms(node.keywords, keywords.get(hit.insight_id, ()))
                ),
            )
            for hit in hits
        ]

    async def _shared_entities(self, node: Node, suppressed: set[str]) -> list[Relationship]:
        keys = distinct_keys(node.entities)
        if not keys:
            return []
        candidates = await self._store.sharing_entities(
            node.owner_id, keys, node.insight_id, ENTITY_CANDIDATES
        )
        scored = sorted(
            (
                (entity_overlap(node.entities, other.entities), other)
                for other in candidates
                if other.insight_id not in suppressed
            ),
            key=lambda pair: (-pair[0], pair[1].insight_id),
        )
        return [
            _edge(
                node,
                other.insight_id,
                RelationType.SHARED_ENTITY,
                score,
                entity_reason(shared_terms(node.entities, other.entities)),
            )
            for score, other in scored[:MAX_ENTITY_LINKS]
            if score > 0
        ]


def _edge(
    node: Node, target_id: str, kind: RelationType, score: float, reason: str
) -> Relationship:
    return Relationship(
        id=uuid.uuid4().hex,
        owner_id=node.owner_id,
        source_id=node.insight_id,
        target_id=target_id,
        type=kind,
        score=round(score, 6),
        reason=reason,
        create_time=utc_now(),
    )
