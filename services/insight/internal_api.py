"""gRPC servicer of InsightInternalService (pipeline workers only): protobuf ⇄ domain."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.insight.v1 import insight_internal_pb2 as pb
from insighttracker.insight.v1 import insight_internal_pb2_grpc
from services.insight.convert import insight_to_proto
from services.insight.domain.models import Enrichment, Entity
from services.insight.domain.pipeline import PipelineSteps

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class InsightInternalServicer(insight_internal_pb2_grpc.InsightInternalServiceServicer):
    def __init__(self, steps: PipelineSteps) -> None:
        self._steps = steps

    async def ClaimInsight(
        self, request: pb.ClaimInsightRequest, context: Context
    ) -> pb.ClaimInsightResponse:
        insight, audio = await self._steps.claim(request.id, request.version)
        return pb.ClaimInsightResponse(
            insight=insight_to_proto(insight), owner_id=insight.owner_id, audio=audio or b""
        )

    async def CompleteEnrichment(
        self, request: pb.CompleteEnrichmentRequest, context: Context
    ) -> pb.CompleteEnrichmentResponse:
        enrichment = Enrichment(
            language=request.language,
            entities=tuple(Entity(e.text, e.label) for e in request.entities),
            keywords=tuple(request.keywords),
            theme=request.theme,
            theme_confidence=request.theme_confidence,
            transcript=request.transcript,
            audio_duration_seconds=request.audio_duration_seconds,
        )
        insight = await self._steps.complete(request.id, request.version, enrichment)
        return pb.CompleteEnrichmentResponse(insight=insight_to_proto(insight))

    async def FailInsight(
        self, request: pb.FailInsightRequest, context: Context
    ) -> pb.FailInsightResponse:
        await self._steps.fail(request.id, request.version, request.reason)
        return pb.FailInsightResponse()

    async def ListStaleInsights(
        self, request: pb.ListStaleInsightsRequest, context: Context
    ) -> pb.ListStaleInsightsResponse:
        stale = await self._steps.stale(request.older_than_seconds, request.limit or 100)
        return pb.ListStaleInsightsResponse(
            insights=[pb.StaleInsight(id=i, version=v) for i, v in stale]
        )
