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
)

log = logging.getLogger(__name__)


class Outcome(Enum):
    READY = "ready"
    OBSOLETE = "obsolete"  # a newer version, or a finished or deleted insight: nothing to do
    FAILED = "failed"


class InsightPipeline:
    def __init__(self, insights: InsightSteps, nlp: Nlp, graph: Graph | None = None) -> None:
        self._insights = insights
        self._nlp = nlp
        self._graph = graph

    def run(self, insight_id: str, version: int, last_attempt: bool) -> Outcome:
        """Processes one version. Transient errors propagate (the queue retries) unless this is
        the last attempt, which leaves the insight FAILED with the reason."""
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
            reason = f"gave up after retries: {error}"
            log.error("insight failed", extra={"insight_id": insight_id, "reason": reason})
            self._insights.fail(insight_id, version, reason)
            return Outcome.FAILED
