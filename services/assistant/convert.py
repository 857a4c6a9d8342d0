"""Domain → protobuf for the assistant's messages."""

from __future__ import annotations

from insighttracker.assistant.v1 import assistant_pb2 as pb
from services.assistant.domain.models import (
    Count,
    JobStatus,
    Stats,
    Suggestion,
    SuggestionKind,
    TrainingJob,
)
from services.common.timestamps import set_timestamp, timestamp

KIND_TO_PROTO = {
    SuggestionKind.RELATED: pb.Suggestion.RELATED,
    SuggestionKind.RESURFACE: pb.Suggestion.RESURFACE,
    SuggestionKind.TAG: pb.Suggestion.TAG,
    SuggestionKind.THEME: pb.Suggestion.THEME,
}
STATUS_TO_PROTO = {
    JobStatus.QUEUED: pb.TrainingJob.QUEUED,
    JobStatus.RUNNING: pb.TrainingJob.RUNNING,
    JobStatus.SUCCEEDED: pb.TrainingJob.SUCCEEDED,
    JobStatus.FAILED: pb.TrainingJob.FAILED,
}


def suggestion_to_proto(s: Suggestion) -> pb.Suggestion:
    return pb.Suggestion(
        id=s.id,
        kind=KIND_TO_PROTO[s.kind],
        insight_id=s.insight_id,
        value=s.value,
        score=s.score,
        reason=s.reason,
    )


def job_to_proto(job: TrainingJob) -> pb.TrainingJob:
    message = pb.TrainingJob(
        id=job.id,
        status=STATUS_TO_PROTO[job.status],
        examples_used=job.examples_used,
        accuracy_before=job.accuracy_before,
        accuracy_after=job.accuracy_after,
        promoted=job.promoted,
        error=job.error,
        create_time=timestamp(job.create_time),
        model_version=job.model_version,
        link_threshold=job.link_scorer.threshold,
        link_positive_examples=job.link_scorer.positive_examples,
        link_negative_examples=job.link_scorer.negative_examples,
    )
    if job.finish_time is not None:
        set_timestamp(message.finish_time, job.finish_time)
    return message


def _counts(counts: list[Count]) -> list[pb.Count]:
    return [pb.Count(key=c.key, count=c.count) for c in counts]


def stats_to_proto(stats: Stats) -> pb.GetStatsResponse:
    i = stats.insights
    return pb.GetStatsResponse(
        total_insights=i.total,
        by_status=_counts(i.by_status),
        by_theme=_counts(i.by_theme),
        by_source=_counts(i.by_source),
        by_tag=_counts(i.by_tag),
        relationships_by_type=_counts(stats.relationships_by_type),
        insights_per_day=_counts(i.per_day),
        pipeline_latency=pb.LatencyPercentiles(
            p50_ms=i.latency_p50_ms, p95_ms=i.latency_p95_ms, p99_ms=i.latency_p99_ms
        ),
        top_entities=_counts(i.top_entities),
    )
