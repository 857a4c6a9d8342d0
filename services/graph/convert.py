"""Protobuf ⇄ domain translation for the graph service's messages."""

from __future__ import annotations

from insighttracker.graph.v1 import graph_pb2 as pb
from services.common.timestamps import timestamp
from services.graph.domain.models import (
    MindMap,
    MindMapEdge,
    MindMapNode,
    Relationship,
    RelationType,
)

TYPE_TO_PROTO = {
    RelationType.SEMANTIC: pb.Relationship.SEMANTIC,
    RelationType.SHARED_ENTITY: pb.Relationship.SHARED_ENTITY,
    RelationType.MANUAL: pb.Relationship.MANUAL,
}


def relationship_to_proto(relationship: Relationship) -> pb.Relationship:
    return pb.Relationship(
        id=relationship.id,
        source_id=relationship.source_id,
        target_id=relationship.target_id,
        type=TYPE_TO_PROTO[relationship.type],
        score=relationship.score,
        reason=relationship.reason,
        create_time=timestamp(relationship.create_time),
    )


def _node_to_proto(node: MindMapNode) -> pb.MindMapNode:
    return pb.MindMapNode(id=node.insight_id, label=node.label, theme=node.theme, depth=node.depth)


def _edge_to_proto(edge: MindMapEdge) -> pb.MindMapEdge:
    return pb.MindMapEdge(
        source_id=edge.source_id,
        target_id=edge.target_id,
        type=TYPE_TO_PROTO[edge.type],
        score=edge.score,
    )


def mind_map_to_proto(mind_map: MindMap) -> pb.GetMindMapResponse:
    return pb.GetMindMapResponse(
        root=_node_to_proto(mind_map.root),
        nodes=[_node_to_proto(n) for n in mind_map.nodes],
        edges=[_edge_to_proto(e) for e in mind_map.edges],
    )
