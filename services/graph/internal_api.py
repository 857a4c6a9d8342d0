"""gRPC servicer of GraphInternalService (services only): protobuf ⇄ domain."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.graph.v1 import graph_internal_pb2 as pb
from insighttracker.graph.v1 import graph_internal_pb2_grpc
from services.graph.convert import TYPE_TO_PROTO
from services.graph.domain.linking import InsightFacts, Linker
from services.graph.domain.owner_queries import OwnerQueries

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class GraphInternalServicer(graph_internal_pb2_grpc.GraphInternalServiceServicer):
    def __init__(self, linker: Linker, queries: OwnerQueries) -> None:
        self._linker = linker
        self._queries = queries

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

    async def FindSimilar(
        self, request: pb.FindSimilarRequest, context: Context
    ) -> pb.FindSimilarResponse:
        hits = await self._queries.similar(
            request.owner_id, list(request.embedding), request.limit, list(request.exclude_ids)
        )
        return pb.FindSimilarResponse(
            insights=[
                pb.SimilarInsight(
                    insight_id=hit.node.insight_id,
                    score=hit.score,
                    label=hit.node.label,
                    theme=hit.node.theme,
                )
                for hit in hits
            ]
        )

    async def CountRelationships(
        self, request: pb.CountRelationshipsRequest, context: Context
    ) -> pb.CountRelationshipsResponse:
        counts = await self._queries.relationship_counts(request.owner_id)
        return pb.CountRelationshipsResponse(
            counts=[
                pb.RelationshipCount(type=TYPE_TO_PROTO[kind], count=count)
                for kind, count in sorted(counts.items(), key=lambda item: item[0].value)
            ]
        )

    async def GetLinkThreshold(
        self, request: pb.GetLinkThresholdRequest, context: Context
    ) -> pb.GetLinkThresholdResponse:
        report = await self._queries.threshold(request.owner_id)
        return pb.GetLinkThresholdResponse(
            threshold=report.threshold,
            positive_examples=report.positive_examples,
            negative_examples=report.negative_examples,
        )
