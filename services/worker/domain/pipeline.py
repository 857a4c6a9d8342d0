"""process_insight's logic: transcribe (audio) → analyze → write enrichment → link → READY."""

from __future__ import annotations

import logging
from enum import Enum

from services.worker.domain.ports import (
    Graph,
    InsightSteps,
    Nlp,
    PermanentError,
    Transcript,
    TransientError,
)

log = logging.getLogger(__name__)


class Outcome(Enum):
    READY = "ready"
    OBSOLETE = "obsolete"  # a newer version, or a finished or deleted insight: nothing to do
    FAILED = "failed"
    DEFERRED = "deferred"  # a dependency stayed down: PENDING again, the sweeper re-queues it


class InsightPipeline:
    def __init__(self, insights: InsightSteps, nlp: Nlp, graph: Graph | None = None) -> None:
        self._insights = insights
        self._nlp = nlp
        self._graph = graph

    def run(self, insight_id: str, version: int, last_attempt: bool) -> Outcome:
        """Processes one version. Errors other than a permanent one propagate (the queue retries)
        until the last attempt. Then a dependency still down leaves the insight PENDING with the
        reason (accepted insights are never lost to an outage); anything else leaves it FAILED."""
        claimed = self._insights.claim(insight_id, version)
        if claimed is None:
            return Outcome.OBSOLETE
        try:
            transcript: Transcript | None = None
            text = claimed.text
            if claimed.audio is not None:
                transcript = self._nlp.transcribe(claimed.audio_format, claimed.audio)
                text = transcript.text
            if not text.strip():
                raise PermanentError("no speech was recognised in the audio")
            analysis = self._nlp.analyze(claimed.owner_id, claimed.id, text)
            if self._graph is not None:
                self._graph.link(claimed, text, analysis)
            if not self._insights.complete(claimed, analysis, transcript):
                return Outcome.OBSOLETE
            return Outcome.READY
        except PermanentError as error:
            log.warning("insight failed", extra={"insight_id": insight_id, "reason": str(error)})
            self._insights.fail(insight_id, version, str(error))
            return Outcome.FAILED
        except Exception as error:
            if not last_attempt:
                raise
            return self._give_up(insight_id, version, error)

    def _give_up(self, insight_id: str, version: int, error: Exception) -> Outcome:
        """After the last attempt: a service still down defers it, anything else fails it."""
        deferred = isinstance(error, TransientError)
        reason = (
            f"waiting for a service to come back: {error}"
            if deferred
            else f"gave up after retries: {error}"
        )
        log.log(
            logging.WARNING if deferred else logging.ERROR,
            "insight deferred" if deferred else "insight failed",
            extra={"insight_id": insight_id, "reason": reason},
        )
        (self._insights.defer if deferred else self._insights.fail)(insight_id, version, reason)
        return Outcome.DEFERRED if deferred else Outcome.FAILED
