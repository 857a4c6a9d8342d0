"""The person's view of relationships: list them, link two insights by hand, delete a link."""

from __future__ import annotations

import asyncio
import uuid

from services.common.clock import utc_now
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.models import Node, Relationship, RelationType
from services.graph.domain.nodes import NodeFinder, node_from_summary
from services.graph.store.port import GraphStore

MAX_REASON_CHARS = 500
DEFAULT_MANUAL_REASON = "linked by you"
RELATIONSHIP_NOT_FOUND = "relationship not found"


def strongest_first(relationships: list[Relationship]) -> list[Relationship]:
    return sorted(relationships, key=lambda r: (-r.score, -r.create_time.timestamp(), r.id))


def _check_link(source_id: str, target_id: str, reason: str) -> str:
    problems = [
        FieldViolation(name, "is required")
        for name, value in (("source_id", source_id), ("target_id", target_id))
        if not value
    ]
    if source_id and source_id == target_id:
        problems.append(FieldViolation("target_id", "must differ from source_id"))
    if len(reason) > MAX_REASON_CHARS:
        problems.append(FieldViolation("reason", f"must be at most {MAX_REASON_CHARS} characters"))
    if problems:
        raise InvalidArgument(problems)
    return " ".join(reason.split()) or DEFAULT_MANUAL_REASON


class RelationshipManager:
    def __init__(self, store: GraphStore, finder: NodeFinder, feedback: FeedbackLearner) -> None:
        self._store = store
        self._finder = finder
        self._feedback = feedback

    async def list(self, owner_id: str, insight_id: str, authorization: str) -> list[Relationship]:
        node = await self._finder.visible(owner_id, insight_id, authorization)
        touching = await self._store.relationships_touching(owner_id, [node.insight_id])
        return strongest_first(touching)

    async def create(
        self, owner_id: str, source_id: str, target_id: str, reason: str, authorization: str
    ) -> Relationship:
        """A MANUAL link between two of the caller's insights, confirmed with the insight
        service; counts as positive feedback."""
        reason = _check_link(source_id, target_id, reason)
        summaries = await asyncio.gather(
            self._finder.confirmed(source_id, authorization),
            self._finder.confirmed(target_id, authorization),
        )
        ends: list[Node] = []
        for summary in summaries:
            stored = await self._store.get_node(owner_id, summary.insight_id)
            if stored is None:
                stored = node_from_summary(owner_id, summary)
                await self._store.add_node_if_absent(stored)
            ends.append(stored)
        relationship = Relationship(
            id=uuid.uuid4().hex,
            owner_id=owner_id,
            source_id=source_id,
            target_id=target_id,
            type=RelationType.MANUAL,
            score=1.0,
            reason=reason,
            create_time=utc_now(),
        )
        await self._store.add_manual_relationship(relationship)
        await self._feedback.record(owner_id, ends[0], ends[1], positive=True)
        return relationship

    async def delete(self, owner_id: str, relationship_id: str) -> None:
        """Removes one of the caller's relationships. A deleted automatic one is suppressed (never
        recreated for that pair) and counts as negative feedback."""
        relationship = (
            await self._store.get_relationship(owner_id, relationship_id)
            if relationship_id
            else None
        )
        if relationship is None:
            raise NotFound(RELATIONSHIP_NOT_FOUND)
        automatic = relationship.type.automatic
        if not await self._store.delete_relationship(owner_id, relationship_id, suppress=automatic):
            raise NotFound(RELATIONSHIP_NOT_FOUND)
        if automatic:
            ends = {
                n.insight_id: n
                for n in await self._store.get_nodes(
                    owner_id, [relationship.source_id, relationship.target_id]
                )
            }
            await self._feedback.record(
                owner_id,
                ends.get(relationship.source_id),
                ends.get(relationship.target_id),
                positive=False,
            )
