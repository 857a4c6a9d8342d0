"""The mind map around an insight: a breadth-first walk, strongest edges first, within a depth
and a node limit."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import FieldViolation, InvalidArgument
from services.graph.domain.labels import short_label
from services.graph.domain.models import MindMap, MindMapEdge, MindMapNode, Node
from services.graph.domain.nodes import NodeFinder
from services.graph.store.port import GraphStore

DEFAULT_DEPTH, MAX_DEPTH = 2, 3
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


@dataclass(frozen=True)
class MindMapRequest:
    insight_id: str
    depth: int = 0  # 0: DEFAULT_DEPTH
    limit: int = 0  # 0: DEFAULT_LIMIT


def _bounds(request: MindMapRequest) -> tuple[int, int]:
    problems = []
    if not 0 <= request.depth <= MAX_DEPTH:
        problems.append(FieldViolation("depth", f"must be between 1 and {MAX_DEPTH}"))
    if not 0 <= request.limit <= MAX_LIMIT:
        problems.append(FieldViolation("limit", f"must be between 1 and {MAX_LIMIT}"))
    if problems:
        raise InvalidArgument(problems)
    return request.depth or DEFAULT_DEPTH, request.limit or DEFAULT_LIMIT


class MindMapBuilder:
    def __init__(self, store: GraphStore, finder: NodeFinder) -> None:
        self._store = store
        self._finder = finder

    async def build(self, owner_id: str, request: MindMapRequest, authorization: str) -> MindMap:
        max_depth, limit = _bounds(request)
        root = await self._finder.visible(owner_id, request.insight_id, authorization)
        depths = await self._walk(owner_id, root.insight_id, max_depth, limit)
        found = {n.insight_id: n for n in await self._store.get_nodes(owner_id, list(depths))}
        found.setdefault(root.insight_id, root)
        nodes = tuple(
            _map_node(found[insight_id], depth)
            for insight_id, depth in depths.items()
            if insight_id in found
        )
        among = await self._store.relationships_among(owner_id, [n.insight_id for n in nodes])
        edges = tuple(
            MindMapEdge(r.source_id, r.target_id, r.type, r.score)
            for r in sorted(among, key=lambda r: (-r.score, r.id))
        )
        return MindMap(root=nodes[0], nodes=nodes, edges=edges)

    async def _walk(
        self, owner_id: str, root_id: str, max_depth: int, limit: int
    ) -> dict[str, int]:
        """Node id → depth, in visiting order. Level by level; within a level the neighbours
        reached by the strongest edges come first, until `limit` nodes."""
        depths = {root_id: 0}
        frontier = [root_id]
        for depth in range(1, max_depth + 1):
            if not frontier or len(depths) >= limit:
                break
            best: dict[str, float] = {}
            frontier_set = set(frontier)
            for rel in await self._store.relationships_touching(owner_id, frontier):
                for here, there in ((rel.source_id, rel.target_id), (rel.target_id, rel.source_id)):
                    if here in frontier_set and there not in depths:
                        best[there] = max(best.get(there, 0.0), rel.score)
            ranked = sorted(best, key=lambda other: (-best[other], other))
            frontier = ranked[: limit - len(depths)]
            depths.update((insight_id, depth) for insight_id in frontier)
        return depths


def _map_node(node: Node, depth: int) -> MindMapNode:
    return MindMapNode(node.insight_id, short_label(node.label), node.theme, depth)
