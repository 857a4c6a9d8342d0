"""What the pipeline tells its StageObserver: each stage's outcome and each job's, on every path
(ready, obsolete, rejected input, retried and given-up transient errors); and the Prometheus
adapter's counts."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from services.worker.domain.pipeline import InsightPipeline, Outcome
from services.worker.domain.ports import PermanentError, TransientError
from services.worker.metrics import PrometheusStageObserver
from tests.unit.worker_fakes import Graph, Nlp, Steps


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, str]] = []
        self.jobs: list[str] = []

    def stage_finished(self, stage: str, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        self.stages.append((stage, outcome))

    def job_finished(self, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        self.jobs.append(outcome)


def run(steps: Steps, nlp: Nlp, last_attempt: bool = False) -> tuple[Recorder, Outcome]:
    recorder = Recorder()
    outcome = InsightPipeline(steps, nlp, Graph(), recorder).run("i1", 1, last_attempt)
    return recorder, outcome


def test_text_insight_records_every_stage_ok() -> None:
    recorder, outcome = run(Steps(), Nlp())
    assert outcome is Outcome.READY
    ok = [("claim", "ok"), ("analyze", "ok"), ("link", "ok"), ("complete", "ok")]
    assert recorder.stages == ok
    assert recorder.jobs == ["ready"]


def test_audio_insight_records_transcribe() -> None:
    recorder, _ = run(Steps(audio=b"RIFF"), Nlp())
    assert [stage for stage, _ in recorder.stages][:2] == ["claim", "transcribe"]


def test_obsolete_job_records_only_the_claim() -> None:
    recorder, outcome = run(Steps(claimable=False), Nlp())
    assert outcome is Outcome.OBSOLETE
    assert recorder.stages == [("claim", "ok")]
    assert recorder.jobs == ["obsolete"]


def test_rejected_input_fails_the_insight() -> None:
    recorder, outcome = run(Steps(), Nlp(PermanentError("bad")))
    assert outcome is Outcome.FAILED
    assert recorder.stages[-2:] == [("analyze", "rejected"), ("fail", "ok")]
    assert recorder.jobs == ["failed"]


def test_transient_error_is_retried() -> None:
    recorder = Recorder()
    pipeline = InsightPipeline(Steps(), Nlp(TransientError("down")), Graph(), recorder)
    with pytest.raises(TransientError):
        pipeline.run("i1", 1, last_attempt=False)
    assert recorder.stages[-1] == ("analyze", "error")
    assert recorder.jobs == ["retried"]


def test_transient_error_on_the_last_attempt_defers_the_insight() -> None:
    steps = Steps()
    recorder, outcome = run(steps, Nlp(TransientError("down")), last_attempt=True)
    assert outcome is Outcome.DEFERRED and steps.deferred and not steps.failed
    assert recorder.stages[-2:] == [("analyze", "error"), ("defer", "ok")]
    assert recorder.jobs == ["deferred"]


def test_other_error_on_the_last_attempt_fails_the_insight() -> None:
    steps = Steps()
    recorder, outcome = run(steps, Nlp(RuntimeError("model crashed")), last_attempt=True)
    assert outcome is Outcome.FAILED and steps.failed and not steps.deferred
    assert recorder.stages[-2:] == [("analyze", "error"), ("fail", "ok")]
    assert recorder.jobs == ["failed"]


def test_an_error_escaping_the_last_attempt_is_an_error() -> None:
    steps = Steps()
    steps.settle_raises = TransientError("insight service down too")
    recorder = Recorder()
    pipeline = InsightPipeline(steps, Nlp(TransientError("down")), Graph(), recorder)
    with pytest.raises(TransientError):
        pipeline.run("i1", 1, last_attempt=True)
    assert recorder.stages[-1] == ("defer", "error")
    assert recorder.jobs == ["error"]


def test_prometheus_observer_counts_stages_and_jobs() -> None:
    def count(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    stage = {"stage": "analyze", "outcome": "ok"}
    before = count("insight_pipeline_stage_seconds_count", **stage)
    ready_before = count("insight_pipeline_jobs_total", outcome="ready")
    InsightPipeline(Steps(), Nlp(), Graph(), PrometheusStageObserver()).run("i1", 1, False)
    assert count("insight_pipeline_stage_seconds_count", **stage) == before + 1
    assert count("insight_pipeline_jobs_total", outcome="ready") == ready_before + 1
    # Outcomes not seen yet read as 0, not as missing series.
    assert (
        REGISTRY.get_sample_value("insight_pipeline_jobs_total", {"outcome": "retried"}) is not None
    )
