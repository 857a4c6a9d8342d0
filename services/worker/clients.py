"""gRPC adapters of the worker's ports: the insight service's internal API and the nlp service."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from insighttracker.graph.v1 import graph_internal_pb2, graph_internal_pb2_grpc
from insighttracker.insight.v1 import insight_internal_pb2 as insight_pb
from insighttracker.insight.v1 import insight_internal_pb2_grpc, insight_pb2
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common.clients import ServiceCredential
from services.worker.domain.ports import (
    ClaimedInsight,
    PermanentError,
    RemoteError,
    TextAnalysis,
    TimedOut,
    Transcript,
    TransientError,
)

CALL_TIMEOUT_SECONDS = 10.0
TRANSCRIBE_TIMEOUT_SECONDS = 600.0
AUDIO_CHUNK_BYTES = 256 * 1024
# Codes that mean "this job has nothing to do": the insight moved on, is done, or is gone.
_OBSOLETE = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
# Codes that mean "the service is down or overloaded": wait for it, never fail the insight.
# DEADLINE_EXCEEDED is transient too, but its own kind (TimedOut): repeated, it fails a version.
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def translate_rpc_error(error: grpc.RpcError) -> Exception:
    """The pipeline's error for a failed call: what it means for the insight, not the wire."""
    code = error.code()
    details = error.details()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return PermanentError(details)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return TimedOut(f"{code.name}: {details}")
    if code in _TRANSIENT:
        return TransientError(f"{code.name}: {details}")
    return RemoteError(f"{code.name}: {details}")


class GrpcInsightSteps:
    def __init__(self, channel: grpc.Channel, credential: ServiceCredential) -> None:
        self._stub = insight_internal_pb2_grpc.InsightInternalServiceStub(channel)
        self._credential = credential

    def claim(self, insight_id: str, version: int) -> ClaimedInsight | None:
        try:
            reply = self._stub.ClaimInsight(
                insight_pb.ClaimInsightRequest(id=insight_id, version=version),
                metadata=self._credential.metadata(),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            if error.code() in _OBSOLETE:
                return None
            raise translate_rpc_error(error) from error
        insight = reply.insight
        return ClaimedInsight(
            id=insight.id,
            version=insight.version,
            owner_id=reply.owner_id,
            text=insight.text,
            audio=reply.audio
            if insight.source == insight_pb2.Insight.AUDIO and reply.audio
            else None,
            audio_format=insight.audio.format,
        )

    def complete(
        self, claimed: ClaimedInsight, analysis: TextAnalysis, transcript: Transcript | None
    ) -> bool:
        request = insight_pb.CompleteEnrichmentRequest(
            id=claimed.id,
            version=claimed.version,
            transcript=transcript.text if transcript else "",
            audio_duration_seconds=transcript.duration_seconds if transcript else 0.0,
            language=analysis.language,
            entities=[insight_pb2.Entity(text=t, label=label) for t, label in analysis.entities],
            keywords=analysis.keywords,
            theme=analysis.theme,
            theme_confidence=analysis.theme_confidence,
        )
        try:
            self._stub.CompleteEnrichment(
                request, metadata=self._credential.metadata(), timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            if error.code() in _OBSOLETE:
                return False
            raise translate_rpc_error(error) from error
        return True

    def fail(self, insight_id: str, version: int, reason: str) -> None:
        request = insight_pb.FailInsightRequest(id=insight_id, version=version, reason=reason)
        self._settle(self._stub.FailInsight, request)

    def defer(self, insight_id: str, version: int, reason: str) -> None:
        request = insight_pb.DeferInsightRequest(id=insight_id, version=version, reason=reason)
        self._settle(self._stub.DeferInsight, request)

    def _settle(self, method: Callable[..., object], request: object) -> None:
        """Fails or defers; an insight that moved on meanwhile needs neither."""
        try:
            method(request, metadata=self._credential.metadata(), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            if error.code() not in _OBSOLETE:
                raise translate_rpc_error(error) from error

    def stale(self, older_than_seconds: int, limit: int) -> list[tuple[str, int]]:
        try:
            reply = self._stub.ListStaleInsights(
                insight_pb.ListStaleInsightsRequest(
                    older_than_seconds=older_than_seconds, limit=limit
                ),
                metadata=self._credential.metadata(),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            raise translate_rpc_error(error) from error
        return [(item.id, item.version) for item in reply.insights]


class GrpcNlp:
    def __init__(self, channel: grpc.Channel, credential: ServiceCredential) -> None:
        self._stub = nlp_pb2_grpc.NlpServiceStub(channel)
        self._credential = credential

    def analyze(self, owner_id: str, insight_id: str, text: str) -> TextAnalysis:
        try:
            reply = self._stub.Analyze(
                nlp_pb2.AnalyzeRequest(text=text, owner_id=owner_id, insight_id=insight_id),
                metadata=self._credential.metadata(),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            raise translate_rpc_error(error) from error
        return TextAnalysis(
            language=reply.language,
            entities=[(e.text, e.label) for e in reply.entities],
            keywords=list(reply.keywords),
            theme=reply.theme,
            theme_confidence=reply.theme_confidence,
            embedding=list(reply.embedding),
        )

    def transcribe(self, content_type: str, audio: bytes) -> Transcript:
        def messages() -> Iterator[nlp_pb2.TranscribeRequest]:
            yield nlp_pb2.TranscribeRequest(format=nlp_pb2.AudioFormat(content_type=content_type))
            for start in range(0, len(audio), AUDIO_CHUNK_BYTES):
                yield nlp_pb2.TranscribeRequest(
                    audio_chunk=audio[start : start + AUDIO_CHUNK_BYTES]
                )

        try:
            reply = self._stub.Transcribe(
                messages(), metadata=self._credential.metadata(), timeout=TRANSCRIBE_TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            raise translate_rpc_error(error) from error
        return Transcript(text=reply.text.strip(), duration_seconds=reply.duration_seconds)


class GrpcGraph:
    def __init__(self, channel: grpc.Channel, credential: ServiceCredential) -> None:
        self._stub = graph_internal_pb2_grpc.GraphInternalServiceStub(channel)
        self._credential = credential

    def link(self, claimed: ClaimedInsight, text: str, analysis: TextAnalysis) -> None:
        request = graph_internal_pb2.LinkInsightRequest(
            insight_id=claimed.id,
            owner_id=claimed.owner_id,
            label=text,  # the graph service shortens it for the mind map
            theme=analysis.theme,
            embedding=analysis.embedding,
            entities=[entity_text for entity_text, _ in analysis.entities],
            keywords=analysis.keywords,
        )
        try:
            self._stub.LinkInsight(
                request, metadata=self._credential.metadata(), timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            raise translate_rpc_error(error) from error
