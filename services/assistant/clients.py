"""gRPC adapters of the assistant's ports: the insight and graph services' internal APIs and the
nlp service. Every call carries the assistant's service credential and the request id, has a
deadline, and turns a failure into Unavailable (the person sees 503, never a stack trace)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import grpc

from insighttracker.graph.v1 import graph_internal_pb2 as gpb
from insighttracker.graph.v1 import graph_internal_pb2_grpc, graph_pb2
from insighttracker.insight.v1 import insight_internal_pb2 as ipb
from insighttracker.insight.v1 import insight_internal_pb2_grpc
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.assistant.domain.models import (
    Count,
    InsightInfo,
    InsightStats,
    LinkScorerReport,
    SimilarInsight,
    TextAnalysis,
    ThemeExample,
)
from services.common.clients import ServiceCredential, answer_or_unavailable

DEADLINE_SECONDS = 5.0
SLOW_DEADLINE_SECONDS = 60.0  # whole-corpus reads and batch embeddings


def _counts(items: Sequence[ipb.KeyCount]) -> list[Count]:
    return [Count(c.key, c.count) for c in items]


class GrpcInsightDirectory:
    def __init__(self, channel: grpc.aio.Channel, credential: ServiceCredential) -> None:
        self._stub = insight_internal_pb2_grpc.InsightInternalServiceStub(channel)
        self._credential = credential

    async def batch_get(self, owner_id: str, ids: Sequence[str]) -> list[InsightInfo]:
        if not ids:
            return []
        reply = await answer_or_unavailable(
            "insight",
            self._stub.BatchGetInsights(
                ipb.BatchGetInsightsRequest(owner_id=owner_id, ids=list(ids)),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return [
            InsightInfo(
                id=i.id,
                text=i.text,
                tags=tuple(i.tags),
                theme=i.theme,
                create_time=i.create_time.ToDatetime(tzinfo=dt.UTC),
            )
            for i in reply.insights
        ]

    async def theme_examples(self, owner_id: str, limit: int) -> list[ThemeExample]:
        reply = await answer_or_unavailable(
            "insight",
            self._stub.ListThemeExamples(
                ipb.ListThemeExamplesRequest(owner_id=owner_id, limit=limit),
                metadata=self._credential.metadata(),
                timeout=SLOW_DEADLINE_SECONDS,
            ),
        )
        return [ThemeExample(e.insight_id, e.text, e.theme) for e in reply.examples]

    async def stats(self, owner_id: str) -> InsightStats:
        r = await answer_or_unavailable(
            "insight",
            self._stub.GetInsightStats(
                ipb.GetInsightStatsRequest(owner_id=owner_id),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return InsightStats(
            total=r.total,
            by_status=_counts(r.by_status),
            by_theme=_counts(r.by_theme),
            by_source=_counts(r.by_source),
            by_tag=_counts(r.by_tag),
            per_day=_counts(r.per_day),
            top_entities=_counts(r.top_entities),
            latency_p50_ms=r.latency_p50_ms,
            latency_p95_ms=r.latency_p95_ms,
            latency_p99_ms=r.latency_p99_ms,
        )


class GrpcSimilarityIndex:
    def __init__(self, channel: grpc.aio.Channel, credential: ServiceCredential) -> None:
        self._stub = graph_internal_pb2_grpc.GraphInternalServiceStub(channel)
        self._credential = credential

    async def find_similar(
        self, owner_id: str, embedding: Sequence[float], limit: int, exclude_ids: Sequence[str]
    ) -> list[SimilarInsight]:
        reply = await answer_or_unavailable(
            "graph",
            self._stub.FindSimilar(
                gpb.FindSimilarRequest(
                    owner_id=owner_id,
                    embedding=list(embedding),
                    limit=limit,
                    exclude_ids=list(exclude_ids),
                ),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return [SimilarInsight(h.insight_id, h.score, h.label, h.theme) for h in reply.insights]

    async def relationship_counts(self, owner_id: str) -> list[Count]:
        reply = await answer_or_unavailable(
            "graph",
            self._stub.CountRelationships(
                gpb.CountRelationshipsRequest(owner_id=owner_id),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return [Count(graph_pb2.Relationship.Type.Name(c.type), c.count) for c in reply.counts]

    async def link_scorer(self, owner_id: str) -> LinkScorerReport:
        reply = await answer_or_unavailable(
            "graph",
            self._stub.GetLinkThreshold(
                gpb.GetLinkThresholdRequest(owner_id=owner_id),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return LinkScorerReport(reply.threshold, reply.positive_examples, reply.negative_examples)


class GrpcTextAnalyzer:
    def __init__(self, channel: grpc.aio.Channel, credential: ServiceCredential) -> None:
        self._stub = nlp_pb2_grpc.NlpServiceStub(channel)
        self._credential = credential

    async def analyze(self, owner_id: str, text: str) -> TextAnalysis:
        reply = await answer_or_unavailable(
            "nlp",
            self._stub.Analyze(
                nlp_pb2.AnalyzeRequest(text=text, owner_id=owner_id),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return TextAnalysis(reply.theme, reply.theme_confidence, list(reply.embedding))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        reply = await answer_or_unavailable(
            "nlp",
            self._stub.Embed(
                nlp_pb2.EmbedRequest(texts=list(texts)),
                metadata=self._credential.metadata(),
                timeout=SLOW_DEADLINE_SECONDS,
            ),
        )
        return [list(e.values) for e in reply.embeddings]
