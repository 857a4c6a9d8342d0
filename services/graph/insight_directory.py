"""InsightDirectory over gRPC: asks the insight service's public GetInsight, as the caller."""

from __future__ import annotations

import logging

import grpc

from insighttracker.insight.v1 import insight_pb2, insight_pb2_grpc
from services.common.errors import Unauthenticated, Unavailable
from services.common.request_context import current_request_id
from services.graph.domain.models import InsightSummary

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 5.0
_ABSENT = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT}


class GrpcInsightDirectory:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = insight_pb2_grpc.InsightServiceStub(channel)

    async def find(self, insight_id: str, authorization: str) -> InsightSummary | None:
        metadata = (("authorization", authorization), ("x-request-id", current_request_id()))
        try:
            reply = await self._stub.GetInsight(
                insight_pb2.GetInsightRequest(id=insight_id),
                metadata=metadata,
                timeout=DEADLINE_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code in _ABSENT:
                return None
            if code is grpc.StatusCode.UNAUTHENTICATED:
                raise Unauthenticated("access token not accepted") from error
            log.warning("insight service call failed", extra={"code": code.name})
            raise Unavailable("the insight service is unavailable") from error
        insight = reply.insight
        return InsightSummary(insight_id=insight.id, text=insight.text, theme=insight.theme)
