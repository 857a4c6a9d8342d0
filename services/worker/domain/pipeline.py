"""process_insight's logic: transcribe (audio) → analyze → write enrichment → link → READY."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

from services.worker.domain.ports import (
    Graph,
    InsightSteps,
    Nlp,
    PermanentError,
    StageObserver,
    Transcript,
)

log = logging.getLogger(__name__)


class Outcome(Enum):
    READY = "ready"
    OBSOLETE = "obsolete"  # a newer version, or a finished or deleted insight: nothing to do
    FAILED = "failed"


# Stage names as observers see them, in pipeline order; `fail` records the insight as FAILED.
STAGES = ("claim", "transcribe", "analyze", "link", "complete", "fail")
# Job outcomes besides Outcome's values: a transient error the queue will retry, or an error
# that escaped the last attempt (recording FAILED itself failed).
RETRIED = "retried"
ERROR = "error"


class _Unobserved:
    def stage_finished(self, stage: str, outcome: str, seconds: float) -> None:
        pass

    def job_finished(self, outcome: str, seconds: float) -> None:
        pass


class InsightPipeline:
    def __init__(
        self,
        insights: InsightSteps,
        nlp: Nlp,
        graph: Graph | None = None,
        observer: StageObserver | None = None,
    ) -> None:
        self._insights = insights
        self._nlp = nlp
        self._graph = graph
        self._observer = observer or _Unobserved()

    def run(self, insight_id: str, version: int, last_attempt: bool) -> Outcome:
        """Processes one version. Transient errors propagate (the queue retries) unless this is
        the last attempt, which leaves the insight FAILED with the reason."""
        started = time.perf_counter()
        job_outcome = ERROR if last_attempt else RETRIED
        try:
            outcome = self._run(insight_id, version, last_attempt)
            job_outcome = outcome.value
            return outcome
        finally:
            self._observer.job_finished(job_outcome, time.perf_counter() - started)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except PermanentError:
            outcome = "rejected"
            raise
        finally:
            self._observer.stage_finished(name, outcome, time.perf_counter() - started)

    def _run(self, insight_id: str, version: int, last_attempt: bool) -> Outcome:
        with self._stage("claim"):
            claimed = self._insights.claim(insight_id, version)
        if claimed is None:
            return Outcome.OBSOLETE
        try:
            transcript: Transcript | None = None
            text = claimed.text
            if claimed.audio is not None:
                with self._stage("transcribe"):
                    transcript = self._nlp.transcribe(claimed.audio_format, claimed.audio)
                text = transcript.text
            if not text.strip():
                raise PermanentError("no speech was recognised in the audio")
            with self._stage("analyze"):
                analysis = self._nlp.analyze(claimed.owner_id, claimed.id, text)
            if self._graph is not None:
                with self._stage("link"):
                    self._graph.link(claimed, text, analysis)
            with self._stage("complete"):
                completed = self._insights.complete(claimed, analysis, transcript)
            return Outcome.READY if completed else Outcome.OBSOLETE
        except PermanentError as error:
            log.warning("insight failed", extra={"insight_id": insight_id, "reason": str(error)})
            self._fail(insight_id, version, str(error))
            return Outcome.FAILED
        except Exception as error:
            if not last_attempt:
                raise
            reason = f"gave up after retries: {error}"
            log.error("insight failed", extra={"insight_id": insight_id, "reason": reason})
            self._fail(insight_id, version, reason)
            return Outcome.FAILED

    def _fail(self, insight_id: str, version: int, reason: str) -> None:
        with self._stage("fail"):
            self._insights.fail(insight_id, version, reason)
