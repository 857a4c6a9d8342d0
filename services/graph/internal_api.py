"""gRPC servicer of GraphInternalService (services only): protobuf ⇄ domain."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.graph.v1 import graph_internal_pb2 as pb
from insighttracker.graph.v1 import graph_internal_pb2_grpc
from services.graph.domain.linking import InsightFacts, Linker

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class GraphInternalServicer(graph_internal_pb2_grpc.GraphInternalServiceServicer):
    def __init__(self, linker: Linker) -> None:
        self._linker = linker

    async def LinkInsight(
        self, request: pb.LinkInsightRequest, context: Context
    ) -> pb.LinkInsightResponse:
        count = await self._linker.link(
            InsightFacts(
                insight_id=request.insight_id,
                owner_id=request.owner_id,
                label=request.label,
                theme=request.theme,
                embedding=list(request.embedding),
                entities=list(request.entities),
                keywords=list(request.keywords),
            )
        )
        return pb.LinkInsightResponse(relationship_count=count)

    async def RemoveInsight(
        self, request: pb.RemoveInsightRequest, context: Context
    ) -> pb.RemoveInsightResponse:
        await self._linker.remove(request.owner_id, request.insight_id)
        return pb.RemoveInsightResponse()
