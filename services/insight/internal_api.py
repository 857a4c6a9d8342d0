"""gRPC servicer of InsightInternalService (pipeline workers only): protobuf ⇄ domain."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.insight.v1 import insight_internal_pb2 as pb
from insighttracker.insight.v1 import insight_internal_pb2_grpc
from services.insight.convert import insight_to_proto
from services.insight.domain.internal_reads import InternalReads
from services.insight.domain.models import Enrichment, Entity
from services.insight.domain.pipeline import PipelineSteps

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class InsightInternalServicer(insight_internal_pb2_grpc.InsightInternalServiceServicer):
    def __init__(self, steps: PipelineSteps, reads: InternalReads) -> None:
        self._steps = steps
        self._reads = reads

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

    async def DeferInsight(
        self, request: pb.DeferInsightRequest, context: Context
    ) -> pb.DeferInsightResponse:
        await self._steps.defer(request.id, request.version, request.reason)
        return pb.DeferInsightResponse()

    async def ListStaleInsights(
        self, request: pb.ListStaleInsightsRequest, context: Context
    ) -> pb.ListStaleInsightsResponse:
        stale = await self._steps.stale(request.older_than_seconds, request.limit or 100)
        return pb.ListStaleInsightsResponse(
            insights=[pb.StaleInsight(id=i, version=v) for i, v in stale]
        )

    async def BatchGetInsights(
        self, request: pb.BatchGetInsightsRequest, context: Context
    ) -> pb.BatchGetInsightsResponse:
        insights = await self._reads.batch_get(request.owner_id, list(request.ids))
        return pb.BatchGetInsightsResponse(insights=[insight_to_proto(i) for i in insights])

    async def ListThemeExamples(
        self, request: pb.ListThemeExamplesRequest, context: Context
    ) -> pb.ListThemeExamplesResponse:
        examples = await self._reads.theme_examples(request.owner_id, request.limit)
        return pb.ListThemeExamplesResponse(
            examples=[
                pb.ThemeExample(insight_id=i.id, text=i.text, theme=i.theme) for i in examples
            ]
        )

    async def GetInsightStats(
        self, request: pb.GetInsightStatsRequest, context: Context
    ) -> pb.GetInsightStatsResponse:
        stats = await self._reads.stats(request.owner_id, request.top)

        def counts(pairs: list[tuple[str, int]]) -> list[pb.KeyCount]:
            return [pb.KeyCount(key=key, count=count) for key, count in pairs]

        return pb.GetInsightStatsResponse(
            total=stats.total,
            by_status=counts(stats.by_status),
            by_theme=counts(stats.by_theme),
            by_source=counts(stats.by_source),
            by_tag=counts(stats.by_tag),
            per_day=counts(stats.per_day),
            top_entities=counts(stats.top_entities),
            latency_p50_ms=stats.latency_ms[50],
            latency_p95_ms=stats.latency_ms[95],
            latency_p99_ms=stats.latency_ms[99],
        )
