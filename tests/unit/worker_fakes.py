"""In-memory stand-ins for the worker pipeline's ports (services/worker/domain/ports.py), shared
by the pipeline's unit tests."""

from __future__ import annotations

from services.worker.domain.ports import ClaimedInsight, TextAnalysis, Transcript

ANALYSIS = TextAnalysis("en", [("Berlin", "GPE")], ["berlin"], "travel", 0.9, [0.1, 0.2])


class Steps:
    """The insight service's internal steps; records every fail and defer with its reason."""

    def __init__(self, claimable: bool = True, audio: bytes | None = None) -> None:
        self.claimable = claimable
        self.audio = audio
        self.settle_raises: Exception | None = None  # fail and defer raise this when set
        self.calls: list[tuple[str, str]] = []

    @property
    def failed(self) -> list[str]:
        return [reason for call, reason in self.calls if call == "fail"]

    @property
    def deferred(self) -> list[str]:
        return [reason for call, reason in self.calls if call == "defer"]

    def claim(self, insight_id: str, version: int) -> ClaimedInsight | None:
        if not self.claimable:
            return None
        return ClaimedInsight(insight_id, version, "owner", "Berlin in May", self.audio, "wav")

    def complete(
        self, claimed: ClaimedInsight, analysis: TextAnalysis, transcript: Transcript | None
    ) -> bool:
        self.calls.append(("complete", ""))
        return True

    def fail(self, insight_id: str, version: int, reason: str) -> None:
        self._settle("fail", reason)

    def defer(self, insight_id: str, version: int, reason: str) -> None:
        self._settle("defer", reason)

    def _settle(self, call: str, reason: str) -> None:
        if self.settle_raises:
            raise self.settle_raises
        self.calls.append((call, reason))

    def stale(self, older_than_seconds: int, limit: int) -> list[tuple[str, int]]:
        return []


class Nlp:
    """Analyses with ANALYSIS, or raises `error`; transcribes any audio as "Berlin in May"."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def analyze(self, owner_id: str, insight_id: str, text: str) -> TextAnalysis:
        if self.error is not None:
            raise self.error
        return ANALYSIS

    def transcribe(self, content_type: str, audio: bytes) -> Transcript:
        return Transcript("Berlin in May", 1.5)


class Graph:
    def link(self, claimed: ClaimedInsight, text: str, analysis: TextAnalysis) -> None:
        pass


class Tally:
    """Counts timed-out deferrals per version, or cannot (`broken`), as Redis down would."""

    def __init__(self, broken: bool = False) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.broken = broken

    def add(self, insight_id: str, version: int) -> int:
        if self.broken:
            raise ConnectionError("redis down")
        key = (insight_id, version)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]
