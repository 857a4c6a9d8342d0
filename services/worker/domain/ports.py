"""What the pipeline needs from other services, as plain types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class PermanentError(Exception):
    """The input can never be processed (e.g. undecodable audio): fail now, do not retry."""


class TransientError(Exception):
    """A dependency is down or slow: retry later, however long it takes (but see TimedOut)."""


class TimedOut(TransientError):
    """A dependency answered nothing within the deadline: usually an outage, but the same input
    timing out again and again (a voice note too long to transcribe in time) would wait forever,
    so the pipeline counts these per insight version (TimeoutTally) and gives up at a limit."""


class RemoteError(Exception):
    """Another service refused the call for another reason: retry a few times, then fail."""


@dataclass(frozen=True)
class ClaimedInsight:
    id: str
    version: int
    owner_id: str
    text: str
    audio: bytes | None
    audio_format: str


@dataclass(frozen=True)
class Transcript:
    text: str
    duration_seconds: float


@dataclass(frozen=True)
class TextAnalysis:
    language: str
    entities: list[tuple[str, str]]
    keywords: list[str]
    theme: str
    theme_confidence: float
    embedding: list[float] = field(default_factory=list)


class InsightSteps(Protocol):
    def claim(self, insight_id: str, version: int) -> ClaimedInsight | None:
        """The insight, now PROCESSING; None when this job is obsolete (stale, done, deleted)."""

    def complete(
        self, claimed: ClaimedInsight, analysis: TextAnalysis, transcript: Transcript | None
    ) -> bool:
        """Writes the enrichment; False when the person changed the insight meanwhile."""

    def fail(self, insight_id: str, version: int, reason: str) -> None: ...

    def defer(self, insight_id: str, version: int, reason: str) -> None:
        """Back to PENDING with `reason`; the sweeper queues it again later."""

    def stale(self, older_than_seconds: int, limit: int) -> list[tuple[str, int]]: ...


class Nlp(Protocol):
    def analyze(self, owner_id: str, insight_id: str, text: str) -> TextAnalysis: ...

    def transcribe(self, content_type: str, audio: bytes) -> Transcript: ...


class Graph(Protocol):
    def link(self, claimed: ClaimedInsight, text: str, analysis: TextAnalysis) -> None: ...


class TimeoutTally(Protocol):
    def add(self, insight_id: str, version: int) -> int:
        """Records that this version was deferred once more on a timeout; returns the count."""
        ...


class StageObserver(Protocol):
    """Told how long each pipeline stage and each job took, and how they ended (metrics live
    behind this port, outside the domain)."""

    def stage_finished(self, stage: str, outcome: str, seconds: float) -> None: ...

    def job_finished(self, outcome: str, seconds: float) -> None: ...
