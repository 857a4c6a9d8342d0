"""What the assistant's domain needs from the outside world. Every adapter raises Unavailable
(services.common.errors) when the thing behind it is down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.assistant.domain.models import (
    Count,
    Feedback,
    InsightInfo,
    InsightStats,
    LinkScorerReport,
    Rejections,
    SimilarInsight,
    Suggestion,
    TextAnalysis,
    ThemeExample,
    TrainingJob,
)
from services.common.theme_models import ThemeModel


class InsightDirectory(Protocol):
    """The insight service's internal API, always scoped by owner."""

    async def batch_get(self, owner_id: str, ids: Sequence[str]) -> list[InsightInfo]:
        """Those of `ids` that exist and are the owner's, in the order asked."""

    async def theme_examples(self, owner_id: str, limit: int) -> list[ThemeExample]:
        """The insights whose theme the person set, newest first."""

    async def stats(self, owner_id: str) -> InsightStats: ...


class SimilarityIndex(Protocol):
    """The graph service's internal API."""

    async def find_similar(
        self, owner_id: str, embedding: Sequence[float], limit: int, exclude_ids: Sequence[str]
    ) -> list[SimilarInsight]: ...

    async def relationship_counts(self, owner_id: str) -> list[Count]: ...

    async def link_scorer(self, owner_id: str) -> LinkScorerReport: ...


class TextAnalyzer(Protocol):
    """The nlp service."""

    async def analyze(self, owner_id: str, text: str) -> TextAnalysis:
        """Theme (from the owner's promoted model when there is one; `owner_id=""` asks for
        the default classifier) and embedding of one text."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of at most 256 texts, in order."""


class ThemeModelVersions(Protocol):
    async def current_version(self, owner_id: str) -> int:
        """The version of the owner's promoted theme model, 0 when there is none; raises
        Unavailable when the registry cannot be read."""


class ResponseCache(Protocol):
    """A best-effort cache of serialised responses: a failure is a miss, never an error."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl_seconds: int) -> None: ...


class ChangeVersions(Protocol):
    async def insights_version(self, owner_id: str) -> int | None:
        """The owner's insight change counter; None when it cannot be read (then no caching)."""


class SuggestionStore(Protocol):
    async def remember(self, owner_id: str, suggestions: Sequence[Suggestion]) -> None:
        """Keeps the issued suggestions' kind and target so feedback can quote their id."""

    async def issued(self, owner_id: str, suggestion_id: str) -> Suggestion | None: ...

    async def add_feedback(self, owner_id: str, feedback: Feedback) -> None: ...

    async def rejections(self, owner_id: str) -> Rejections: ...

    async def rejections_version(self, owner_id: str) -> int:
        """Grows with every rejection the owner makes (part of the cache key)."""


class TrainingJobStore(Protocol):
    async def create_job(self, job: TrainingJob) -> None: ...

    async def save_job(self, job: TrainingJob) -> None: ...

    async def job(self, owner_id: str, job_id: str) -> TrainingJob | None: ...

    async def unfinished_job(self, owner_id: str) -> TrainingJob | None: ...

    async def latest_finished_job(self, owner_id: str) -> TrainingJob | None: ...

    async def known_owners(self) -> list[str]:
        """Everyone with feedback or a training job."""

    async def feedback_since(self, owner_id: str, micros: int) -> int:
        """How many feedback examples the owner gave at or after that moment."""


class TrainingQueue(Protocol):
    async def enqueue_training(self, job_id: str, owner_id: str) -> None: ...


class ModelRegistry(ThemeModelVersions, Protocol):
    async def current(self, owner_id: str) -> ThemeModel | None: ...

    async def promote(self, owner_id: str, model: ThemeModel) -> None: ...
