"""Finding the caller's insight in the graph, or, for one not linked yet, at the insight service."""

from __future__ import annotations

from services.common.errors import NotFound
from services.graph.domain.labels import short_label
from services.graph.domain.models import InsightSummary, Node
from services.graph.domain.ports import InsightDirectory
from services.graph.store.port import GraphStore

NOT_FOUND_MESSAGE = "insight not found"
STORED_LABEL_CHARS = 200


def node_from_summary(owner_id: str, summary: InsightSummary) -> Node:
    """The node of an insight the pipeline has not linked yet: a label, a theme, no embedding."""
    return Node(
        insight_id=summary.insight_id,
        owner_id=owner_id,
        label=short_label(summary.text, STORED_LABEL_CHARS),
        theme=summary.theme,
    )


class NodeFinder:
    def __init__(self, store: GraphStore, directory: InsightDirectory) -> None:
        self._store = store
        self._directory = directory

    async def visible(self, owner_id: str, insight_id: str, authorization: str) -> Node:
        """The caller's node; for an insight of theirs not in the graph yet (still PENDING), an
        unsaved node made from what the insight service says. NotFound otherwise, with the same
        message whether it is missing or someone else's."""
        if not insight_id:
            raise NotFound(NOT_FOUND_MESSAGE)
        node = await self._store.get_node(owner_id, insight_id)
        if node is not None:
            return node
        return node_from_summary(owner_id, await self.confirmed(insight_id, authorization))

    async def confirmed(self, insight_id: str, authorization: str) -> InsightSummary:
        """What the insight service says about the caller's insight; NotFound if not theirs."""
        summary = await self._directory.find(insight_id, authorization)
        if summary is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        return summary
