"""gRPC servicer of the nlp service: protobuf in, domain call, protobuf out. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, TypeAlias

import grpc

from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.nlp.domain.analyzer import TextAnalyzer
from services.nlp.domain.transcription import AudioFormat, AudioPart, TranscriptionService

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


async def _audio_parts(
    requests: AsyncIterable[nlp_pb2.TranscribeRequest],
) -> AsyncIterator[AudioPart]:
    async for request in requests:
        if request.WhichOneof("payload") == "format":
            yield AudioPart(
                format=AudioFormat(
                    content_type=request.format.content_type,
                    sample_rate_hertz=request.format.sample_rate_hertz,
                )
            )
        else:
            yield AudioPart(chunk=request.audio_chunk)


class NlpServicer(nlp_pb2_grpc.NlpServiceServicer):
    def __init__(self, analyzer: TextAnalyzer, transcription: TranscriptionService) -> None:
        self._analyzer = analyzer
        self._transcription = transcription

    async def Analyze(
        self, request: nlp_pb2.AnalyzeRequest, context: Context
    ) -> nlp_pb2.AnalyzeResponse:
        analysis = await self._analyzer.analyze(request.text, request.owner_id, request.insight_id)
        return nlp_pb2.AnalyzeResponse(
            language=analysis.language,
            entities=[nlp_pb2.NamedEntity(text=e.text, label=e.label) for e in analysis.entities],
            keywords=analysis.keywords,
            theme=analysis.theme.name if analysis.theme else "",
            theme_confidence=analysis.theme.confidence if analysis.theme else 0.0,
            embedding=analysis.embedding,
        )

    async def Embed(self, request: nlp_pb2.EmbedRequest, context: Context) -> nlp_pb2.EmbedResponse:
        vectors = await self._analyzer.embed(list(request.texts))
        return nlp_pb2.EmbedResponse(
            embeddings=[nlp_pb2.Embedding(values=vector) for vector in vectors]
        )

    async def Transcribe(
        self, request_iterator: AsyncIterator[nlp_pb2.TranscribeRequest], context: Context
    ) -> nlp_pb2.TranscribeResponse:
        transcript = await self._transcription.transcribe(_audio_parts(request_iterator))
        return nlp_pb2.TranscribeResponse(
            text=transcript.text,
            segments=[
                nlp_pb2.TranscriptSegment(
                    text=s.text,
                    start_seconds=s.start_seconds,
                    end_seconds=s.end_seconds,
                    confidence=s.confidence,
                )
                for s in transcript.segments
            ],
            duration_seconds=transcript.duration_seconds,
        )
