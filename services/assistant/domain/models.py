"""The assistant's domain types: plain data, no gRPC, Redis or database types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum


class SuggestionKind(Enum):
    RELATED = "RELATED"
    RESURFACE = "RESURFACE"
    TAG = "TAG"
    THEME = "THEME"

    @property
    def about_insight(self) -> bool:
        return self in (SuggestionKind.RELATED, SuggestionKind.RESURFACE)


@dataclass(frozen=True)
class Suggestion:
    """One thing worth the person's attention. `target` is an insight id (RELATED, RESURFACE)
    or the tag / theme itself (TAG, THEME); `id` is stable for the same kind and target."""

    id: str
    kind: SuggestionKind
    target: str
    score: float
    reason: str

    @property
    def insight_id(self) -> str:
        return self.target if self.kind.about_insight else ""

    @property
    def value(self) -> str:
        return "" if self.kind.about_insight else self.target


@dataclass(frozen=True)
class SuggestionRequest:
    context: str
    insight_id: str
    limit: int


@dataclass(frozen=True)
class InsightInfo:
    """What the assistant needs to know of one of the person's insights."""

    id: str
    text: str
    tags: tuple[str, ...]
    theme: str
    create_time: dt.datetime


@dataclass(frozen=True)
class SimilarInsight:
    """A hit of the graph's nearest-neighbour search."""

    insight_id: str
    score: float
    label: str
    theme: str


@dataclass(frozen=True)
class TextAnalysis:
    theme: str
    theme_confidence: float
    embedding: list[float]


@dataclass(frozen=True)
class ThemeExample:
    """An insight whose theme the person chose (a correction made through PUT /insights/{id})."""

    insight_id: str
    text: str
    theme: str


@dataclass(frozen=True)
class Feedback:
    """The person's verdict on a suggestion or an insight: one training example."""

    suggestion_id: str
    kind: str  # a SuggestionKind value, or INSIGHT for a verdict on an insight alone
    target: str
    accepted: bool
    create_time: dt.datetime


INSIGHT_FEEDBACK = "INSIGHT"


@dataclass(frozen=True)
class Rejections:
    """What the person said no to: suggestion ids, and insights never to suggest again."""

    suggestion_ids: frozenset[str] = frozenset()
    insight_ids: frozenset[str] = frozenset()

    def excludes(self, suggestion: Suggestion) -> bool:
        if suggestion.id in self.suggestion_ids:
            return True
        return suggestion.kind.about_insight and suggestion.target in self.insight_ids


class JobStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class LinkScorerReport:
    """The graph's relationship scorer as training found it (the graph recalibrates it)."""

    threshold: float = 0.0
    positive_examples: int = 0
    negative_examples: int = 0


@dataclass(frozen=True)
class TrainingJob:
    id: str
    owner_id: str
    status: JobStatus
    create_time: dt.datetime
    examples_used: int = 0
    accuracy_before: float = 0.0
    accuracy_after: float = 0.0
    promoted: bool = False
    model_version: int = 0
    error: str = ""
    finish_time: dt.datetime | None = None
    link_scorer: LinkScorerReport = field(default_factory=LinkScorerReport)
    examples_digest: str = ""


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class InsightStats:
    total: int
    by_status: list[Count]
    by_theme: list[Count]
    by_source: list[Count]
    by_tag: list[Count]
    per_day: list[Count]
    top_entities: list[Count]
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float


@dataclass(frozen=True)
class Stats:
    insights: InsightStats
    relationships_by_type: list[Count]
