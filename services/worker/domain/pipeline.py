"""process_insight's logic: transcribe (audio) → analyze → write enrichment → link → READY."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from services.worker.domain.ports import (
    Graph,
    InsightSteps,
    Nlp,
    PermanentError,
    StageObserver,
    TimedOut,
    TimeoutTally,
    Transcript,
    TransientError,
)

log = logging.getLogger(__name__)


class Outcome(Enum):
    READY = "ready"
    OBSOLETE = "obsolete"  # a newer version, or a finished or deleted insight: nothing to do
    FAILED = "failed"
    DEFERRED = "deferred"  # a dependency stayed down: PENDING again, the sweeper re-queues it


# Stage names as observers see them, in pipeline order; `fail` records the insight as FAILED,
# `defer` puts it back to PENDING after a dependency outage outlasted the retries.
STAGES = ("claim", "transcribe", "analyze", "link", "complete", "fail", "defer")
# Job outcomes besides Outcome's values: a transient error the queue will retry, or an error
# that escaped the last attempt (recording FAILED itself failed).
RETRIED = "retried"
ERROR = "error"


class _Unobserved:
    def stage_finished(self, stage: str, outcome: str, seconds: float) -> None:
        pass

    def job_finished(self, outcome: str, seconds: float) -> None:
        pass


@dataclass(frozen=True)
class TimeoutLimit:
    """A version deferred on a timeout this many times is FAILED instead: a dependency that is
    down refuses calls at once, so timing out again and again means this input cannot be done
    within the deadline (e.g. a very long voice note), and waiting would retry it forever."""

    tally: TimeoutTally
    max_deferrals: int


class InsightPipeline:
    def __init__(
        self,
        insights: InsightSteps,
        nlp: Nlp,
        graph: Graph | None = None,
        observer: StageObserver | None = None,
        timeout_limit: TimeoutLimit | None = None,
    ) -> None:
        self._insights = insights
        self._nlp = nlp
        self._graph = graph
        self._observer = observer or _Unobserved()
        self._timeout_limit = timeout_limit

    def run(self, insight_id: str, version: int, last_attempt: bool) -> Outcome:
        """Processes one version. Errors other than a permanent one propagate (the queue retries)
        until the last attempt. Then a dependency still down leaves the insight PENDING with the
        reason (accepted insights are never lost to an outage); anything else leaves it FAILED."""
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
            return self._give_up(insight_id, version, error)

    def _fail(self, insight_id: str, version: int, reason: str) -> None:
        with self._stage("fail"):
            self._insights.fail(insight_id, version, reason)

    def _give_up(self, insight_id: str, version: int, error: Exception) -> Outcome:
        """After the last attempt: a service still down defers it, anything else fails it, and
        so does timing out too often (TimeoutLimit)."""
        timeouts = self._timeouts_so_far(insight_id, version, error)
        if isinstance(error, TransientError) and not timeouts:
            reason = f"waiting for a service to come back: {error}"
            log.warning("insight deferred", extra={"insight_id": insight_id, "reason": reason})
            with self._stage("defer"):
                self._insights.defer(insight_id, version, reason)
            return Outcome.DEFERRED
        if timeouts:
            reason = f"gave up after timing out in {timeouts} rounds of retries: {error}"
        else:
            reason = f"gave up after retries: {error}"
        log.error("insight failed", extra={"insight_id": insight_id, "reason": reason})
        self._fail(insight_id, version, reason)
        return Outcome.FAILED

    def _timeouts_so_far(self, insight_id: str, version: int, error: Exception) -> int:
        """The count of timed-out deferrals of this version, this one included, once it reaches
        the limit; else 0. A tally that cannot count never fails an insight."""
        limit = self._timeout_limit
        if limit is None or limit.max_deferrals <= 0 or not isinstance(error, TimedOut):
            return 0
        try:
            count = limit.tally.add(insight_id, version)
        except Exception:
            log.warning("timeout tally unavailable", exc_info=True)
            return 0
        return count if count >= limit.max_deferrals else 0
