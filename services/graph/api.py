"""gRPC servicer of GraphService (people, with their access token): protobuf in, domain call,
protobuf out. Nothing else."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.graph.v1 import graph_pb2 as pb
from insighttracker.graph.v1 import graph_pb2_grpc
from services.common.request_context import current_user_id
from services.graph.convert import mind_map_to_proto, relationship_to_proto
from services.graph.domain.mindmap import MindMapBuilder, MindMapRequest
from services.graph.domain.relationships import RelationshipManager

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def caller_authorization(context: Context) -> str:
    """The caller's own `authorization` header, forwarded when asking the insight service."""
    for key, value in context.invocation_metadata() or ():
        if str(key).lower() == "authorization":
            return str(value)
    return ""


class GraphServicer(graph_pb2_grpc.GraphServiceServicer):
    def __init__(self, relationships: RelationshipManager, mind_maps: MindMapBuilder) -> None:
        self._relationships = relationships
        self._mind_maps = mind_maps

    async def ListRelationships(
        self, request: pb.ListRelationshipsRequest, context: Context
    ) -> pb.ListRelationshipsResponse:
        found = await self._relationships.list(
            current_user_id(), request.insight_id, caller_authorization(context)
        )
        return pb.ListRelationshipsResponse(relationships=[relationship_to_proto(r) for r in found])

    async def GetMindMap(
        self, request: pb.GetMindMapRequest, context: Context
    ) -> pb.GetMindMapResponse:
        mind_map = await self._mind_maps.build(
            current_user_id(),
            MindMapRequest(request.insight_id, request.depth, request.limit),
            caller_authorization(context),
        )
        return mind_map_to_proto(mind_map)

    async def CreateRelationship(
        self, request: pb.CreateRelationshipRequest, context: Context
    ) -> pb.CreateRelationshipResponse:
        relationship = await self._relationships.create(
            current_user_id(),
            request.source_id,
            request.target_id,
            request.reason,
            caller_authorization(context),
        )
        return pb.CreateRelationshipResponse(relationship=relationship_to_proto(relationship))

    async def DeleteRelationship(
        self, request: pb.DeleteRelationshipRequest, context: Context
    ) -> pb.DeleteRelationshipResponse:
        await self._relationships.delete(current_user_id(), request.id)
        return pb.DeleteRelationshipResponse()
