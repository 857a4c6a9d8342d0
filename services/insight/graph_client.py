"""GrpcGraphNodes: the insight service's view of the graph service (internal API)."""

from __future__ import annotations

import grpc

from insighttracker.graph.v1 import graph_internal_pb2, graph_internal_pb2_grpc
from services.common.clients import ServiceCredential
from services.common.errors import Unavailable

CALL_TIMEOUT_SECONDS = 5.0


class GrpcGraphNodes:
    def __init__(self, channel: grpc.aio.Channel, credential: ServiceCredential) -> None:
        self._stub = graph_internal_pb2_grpc.GraphInternalServiceStub(channel)
        self._credential = credential

    async def remove(self, insight_id: str, owner_id: str) -> None:
        try:
            await self._stub.RemoveInsight(
                graph_internal_pb2.RemoveInsightRequest(insight_id=insight_id, owner_id=owner_id),
                metadata=self._credential.metadata(),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            raise Unavailable(f"graph service: {error.code().name}") from error
