"""GrpcMeaningSearch: a person's insights close in meaning to a search query. The nlp service
embeds the query with the model that embedded the insights; the graph service, which holds their
vectors, returns the nearest. Both calls carry the insight service's credential and the request
id; a failure is Unavailable (503: search by meaning needs both services)."""

from __future__ import annotations

import grpc

from insighttracker.graph.v1 import graph_internal_pb2, graph_internal_pb2_grpc
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common.clients import ServiceCredential, answer_or_unavailable

DEADLINE_SECONDS = 5.0
# FindSimilar's maximum. A query close to more insights than this keeps the closest; insights
# containing its words are found by the store whatever their number.
MAX_CLOSE_INSIGHTS = 200


class GrpcMeaningSearch:
    def __init__(
        self,
        nlp_channel: grpc.aio.Channel,
        graph_channel: grpc.aio.Channel,
        credential: ServiceCredential,
        min_similarity: float,
    ) -> None:
        self._nlp = nlp_pb2_grpc.NlpServiceStub(nlp_channel)
        self._graph = graph_internal_pb2_grpc.GraphInternalServiceStub(graph_channel)
        self._credential = credential
        self._min_similarity = min_similarity

    async def close_in_meaning(self, owner_id: str, query: str) -> frozenset[str]:
        embedded = await answer_or_unavailable(
            "nlp",
            self._nlp.Embed(
                nlp_pb2.EmbedRequest(texts=[query]),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        nearest = await answer_or_unavailable(
            "graph",
            self._graph.FindSimilar(
                graph_internal_pb2.FindSimilarRequest(
                    owner_id=owner_id,
                    embedding=list(embedded.embeddings[0].values),
                    limit=MAX_CLOSE_INSIGHTS,
                ),
                metadata=self._credential.metadata(),
                timeout=DEADLINE_SECONDS,
            ),
        )
        return frozenset(
            hit.insight_id for hit in nearest.insights if hit.score >= self._min_similarity
        )
