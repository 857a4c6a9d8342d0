"""In-memory fakes of the assistant's ports, shared by the test_assistant_* unit tests (this
module holds no tests). Embeddings are hashed bags of words: texts sharing words are similar."""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

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
from services.common.clock import to_micros
from services.common.errors import Unavailable
from services.common.theme_models import ThemeModel

DIMENSIONS = 64


def bag_embedding(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in text.lower().split():
        vector[zlib.crc32(word.strip(".,!?").encode()) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@dataclass
class FakeInsights:
    insights: dict[str, dict[str, InsightInfo]] = field(default_factory=dict)
    examples: dict[str, list[ThemeExample]] = field(default_factory=dict)
    down: bool = False
    calls: int = 0

    def add(self, owner_id: str, info: InsightInfo) -> None:
        self.insights.setdefault(owner_id, {})[info.id] = info

    async def batch_get(self, owner_id: str, ids: Sequence[str]) -> list[InsightInfo]:
        self.calls += 1
        if self.down:
            raise Unavailable("the insight service is unavailable")
        mine = self.insights.get(owner_id, {})
        return [mine[i] for i in ids if i in mine]

    async def theme_examples(self, owner_id: str, limit: int) -> list[ThemeExample]:
        if self.down:
            raise Unavailable("the insight service is unavailable")
        return self.examples.get(owner_id, [])[:limit]

    async def stats(self, owner_id: str) -> InsightStats:
        total = len(self.insights.get(owner_id, {}))
        return InsightStats(total, [Count("READY", total)], [], [], [], [], [], 1.0, 2.0, 3.0)


@dataclass
class FakeIndex:
    """FindSimilar over the insights of a FakeInsights, by their text's bag embedding."""

    insights: FakeInsights
    queries: int = 0

    async def find_similar(
        self, owner_id: str, embedding: Sequence[float], limit: int, exclude_ids: Sequence[str]
    ) -> list[SimilarInsight]:
        self.queries += 1
        hits = [
            SimilarInsight(i.id, max(0.0, cosine(embedding, bag_embedding(i.text))), i.text, "")
            for i in self.insights.insights.get(owner_id, {}).values()
            if i.id not in exclude_ids
        ]
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    async def relationship_counts(self, owner_id: str) -> list[Count]:
        return [Count("SEMANTIC", 2), Count("MANUAL", 1)]

    async def link_scorer(self, owner_id: str) -> LinkScorerReport:
        return LinkScorerReport(0.55, 1, 2)


@dataclass
class FakeAnalyzer:
    theme: str = "Technology"
    confidence: float = 0.8
    default_themes: dict[str, str] = field(default_factory=dict)  # text -> default theme
    embeddings: dict[str, list[float]] = field(default_factory=dict)  # overrides by text
    analyzed: list[tuple[str, str]] = field(default_factory=list)

    def vector(self, text: str) -> list[float]:
        return self.embeddings.get(text) or bag_embedding(text)

    async def analyze(self, owner_id: str, text: str) -> TextAnalysis:
        self.analyzed.append((owner_id, text))
        theme = self.theme if owner_id else self.default_themes.get(text, "Technology")
        return TextAnalysis(theme, self.confidence, self.vector(text))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        assert len(texts) <= 256
        return [self.vector(t) for t in texts]


@dataclass
class MemoryCache:
    entries: dict[str, str] = field(default_factory=dict)
    ttls: dict[str, int] = field(default_factory=dict)

    async def get(self, key: str) -> str | None:
        return self.entries.get(key)

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.entries[key] = value
        self.ttls[key] = ttl_seconds


@dataclass
class FakeVersions:
    versions: dict[str, int | None] = field(default_factory=dict)

    async def insights_version(self, owner_id: str) -> int | None:
        return self.versions.get(owner_id, 0)


@dataclass
class MemoryStore:
    issued_by_owner: dict[tuple[str, str], Suggestion] = field(default_factory=dict)
    feedback: list[tuple[str, Feedback]] = field(default_factory=list)
    jobs: dict[str, TrainingJob] = field(default_factory=dict)

    async def remember(self, owner_id: str, suggestions: Sequence[Suggestion]) -> None:
        for s in suggestions:
            self.issued_by_owner[(owner_id, s.id)] = s

    async def issued(self, owner_id: str, suggestion_id: str) -> Suggestion | None:
        return self.issued_by_owner.get((owner_id, suggestion_id))

    async def add_feedback(self, owner_id: str, feedback: Feedback) -> None:
        self.feedback.append((owner_id, feedback))

    async def rejections(self, owner_id: str) -> Rejections:
        no = [f for o, f in self.feedback if o == owner_id and not f.accepted]
        return Rejections(
            frozenset(f.suggestion_id for f in no if f.suggestion_id),
            frozenset(f.target for f in no if f.kind in ("INSIGHT", "RELATED", "RESURFACE")),
        )

    async def rejections_version(self, owner_id: str) -> int:
        return sum(1 for o, f in self.feedback if o == owner_id and not f.accepted)

    async def create_job(self, job: TrainingJob) -> None:
        self.jobs[job.id] = job

    async def save_job(self, job: TrainingJob) -> None:
        self.jobs[job.id] = job

    async def job(self, owner_id: str, job_id: str) -> TrainingJob | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner_id == owner_id else None

    def _owned(self, owner_id: str, finished: bool) -> list[TrainingJob]:
        found = [
            j
            for j in self.jobs.values()
            if j.owner_id == owner_id and j.status.finished == finished
        ]
        return sorted(found, key=lambda j: j.create_time, reverse=True)

    async def unfinished_job(self, owner_id: str) -> TrainingJob | None:
        return next(iter(self._owned(owner_id, False)), None)

    async def latest_finished_job(self, owner_id: str) -> TrainingJob | None:
        return next(iter(self._owned(owner_id, True)), None)

    async def known_owners(self) -> list[str]:
        return sorted({o for o, _ in self.feedback} | {j.owner_id for j in self.jobs.values()})

    async def feedback_since(self, owner_id: str, micros: int) -> int:
        return sum(
            1 for o, f in self.feedback if o == owner_id and to_micros(f.create_time) >= micros
        )


@dataclass
class FakeQueue:
    queued: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    async def enqueue_training(self, job_id: str, owner_id: str) -> None:
        if self.down:
            raise Unavailable("the training queue is unavailable")
        self.queued.append((job_id, owner_id))


@dataclass
class FakeRegistry:
    models: dict[str, ThemeModel] = field(default_factory=dict)

    async def current_version(self, owner_id: str) -> int:
        model = self.models.get(owner_id)
        return model.version if model else 0

    async def current(self, owner_id: str) -> ThemeModel | None:
        return self.models.get(owner_id)

    async def promote(self, owner_id: str, model: ThemeModel) -> None:
        self.models[owner_id] = dataclasses.replace(model)
