"""The pipeline's Prometheus metrics: the adapter of the domain's StageObserver port."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.worker.domain.pipeline import ERROR, RETRIED, STAGES, Outcome

# Stages span a 2 ms claim to a minutes-long transcription.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
STAGE_SECONDS = Histogram(
    "insight_pipeline_stage_seconds",
    "Time one pipeline stage took, by stage and outcome (ok, rejected: permanent, error).",
    ["stage", "outcome"],
    buckets=_BUCKETS,
)
JOB_SECONDS = Histogram(
    "insight_pipeline_job_seconds",
    "Time one process_insight attempt took, by outcome.",
    ["outcome"],
    buckets=_BUCKETS,
)
JOBS = Counter(
    "insight_pipeline_jobs_total",
    "process_insight attempts, by outcome (ready, obsolete, failed, retried, error).",
    ["outcome"],
)
JOB_OUTCOMES = (*(o.value for o in Outcome), RETRIED, ERROR)


class PrometheusStageObserver:
    def __init__(self) -> None:
        # Every series exists from the start, so rates and "no failures yet" read as 0.
        for outcome in JOB_OUTCOMES:
            JOBS.labels(outcome)
        for stage in STAGES:
            STAGE_SECONDS.labels(stage, "ok")

    def stage_finished(self, stage: str, outcome: str, seconds: float) -> None:
        STAGE_SECONDS.labels(stage, outcome).observe(seconds)

    def job_finished(self, outcome: str, seconds: float) -> None:
        JOBS.labels(outcome).inc()
        JOB_SECONDS.labels(outcome).observe(seconds)
