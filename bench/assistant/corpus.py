"""A person's 10k insights for the assistant benchmark: generated sentences on 20 subjects,
embedded with the real model, and in-process stand-ins for the insight and graph services
(a dict, and the graph service's own method: brute-force cosine over one float32 matrix)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from services.assistant.domain.models import (
    Count,
    InsightInfo,
    InsightStats,
    LinkScorerReport,
    SimilarInsight,
    TextAnalysis,
    ThemeExample,
)
from services.nlp.domain.themes import DefaultThemes
from services.nlp.engines.sentence_embedder import SentenceEmbedder

SUBJECTS = {
    "rust": ("Rust", ["borrow checker", "lifetimes", "cargo", "traits", "async tasks"]),
    "garden": ("Gardening", ["tomatoes", "compost", "roses", "seedlings", "mulch"]),
    "invest": ("Investing", ["index funds", "bonds", "dividends", "ETFs", "rebalancing"]),
    "cook": ("Cooking", ["sourdough", "risotto", "curry", "ramen broth", "spices"]),
    "run": ("Running", ["intervals", "marathon pace", "trail shoes", "long runs", "cadence"]),
    "photo": ("Photography", ["aperture", "golden hour", "prime lens", "exposure", "framing"]),
    "music": ("Music", ["chord changes", "scales", "metronome", "guitar riffs", "harmony"]),
    "travel": ("Travel", ["night trains", "hostels", "packing light", "visas", "old towns"]),
    "sleep": ("Health", ["sleep", "caffeine", "naps", "bedtime routine", "blue light"]),
    "write": ("Writing", ["first drafts", "editing", "outlines", "dialogue", "deadlines"]),
}
TEMPLATES = [
    "Today I learned something about {a}: it works better with {b}",
    "Note to self: {a} and {b} go together more than I thought",
    "A question I keep coming back to is how {a} relates to {b}",
    "Reading about {a} made me rethink {b}",
    "Tried {a} again this week; {b} was the part that mattered",
]
QUERIES = [
    "how do async tasks and the borrow checker work together in rust",
    "my tomato seedlings need better compost this spring",
    "should I rebalance my index funds into bonds",
    "the sourdough starter and spices for tonight's curry",
    "training plan with intervals before the marathon",
    "shooting at golden hour with a prime lens",
    "practising scales and chord changes on guitar",
    "booking night trains across old towns",
    "cutting caffeine to fix my bedtime routine",
    "editing the first draft before the deadline",
]


def generate(count: int, seed: int = 3) -> list[tuple[str, str, tuple[str, ...]]]:
    """(text, theme, tags) for `count` insights."""
    rng = random.Random(seed)
    keys = list(SUBJECTS)
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for n in range(count):
        key = keys[n % len(keys)]
        theme, terms = SUBJECTS[key]
        a, b = rng.sample(terms, 2)
        text = rng.choice(TEMPLATES).format(a=a, b=b) + f" (#{n})"
        tags = (key, rng.choice(["idea", "todo", "question", "later"]))
        out.append((text, theme, tags))
    return out


class MatrixIndex:
    """FindSimilar as the graph service does it: one matrix-vector product and argpartition."""

    def __init__(self, ids: list[str], vectors: npt.NDArray[np.float32], labels: list[str]):
        self._ids, self._matrix, self._labels = ids, vectors, labels

    async def find_similar(
        self, owner_id: str, embedding: Sequence[float], limit: int, exclude_ids: Sequence[str]
    ) -> list[SimilarInsight]:
        scores = self._matrix @ np.asarray(embedding, dtype=np.float32)
        top = np.argpartition(-scores, limit)[: limit + len(exclude_ids)]
        ordered = top[np.argsort(-scores[top])]
        hits = [
            SimilarInsight(self._ids[i], float(max(0.0, scores[i])), self._labels[i], "")
            for i in ordered
            if self._ids[i] not in exclude_ids
        ]
        return hits[:limit]

    async def relationship_counts(self, owner_id: str) -> list[Count]:
        return []

    async def link_scorer(self, owner_id: str) -> LinkScorerReport:
        return LinkScorerReport(0.5, 0, 0)


class DictInsights:
    def __init__(self, infos: dict[str, InsightInfo], examples: list[ThemeExample]) -> None:
        self._infos, self._examples = infos, examples

    async def batch_get(self, owner_id: str, ids: Sequence[str]) -> list[InsightInfo]:
        return [self._infos[i] for i in ids if i in self._infos]

    async def theme_examples(self, owner_id: str, limit: int) -> list[ThemeExample]:
        return self._examples[:limit]

    async def stats(self, owner_id: str) -> InsightStats:
        raise NotImplementedError


class ModelAnalyzer:
    """The nlp service's Analyze/Embed minus spaCy: the real embedding model and default themes.
    `analyze_ms` records the time of every Analyze, to tell the model's share from the rest."""

    def __init__(self, embedder: SentenceEmbedder, themes: DefaultThemes) -> None:
        self._embedder, self._themes = embedder, themes
        self.analyze_ms: list[float] = []

    async def analyze(self, owner_id: str, text: str) -> TextAnalysis:
        started = time.perf_counter()
        (vector,) = self._embedder.embed([text])
        theme = self._themes.classify(vector)
        self.analyze_ms.append((time.perf_counter() - started) * 1000)
        return TextAnalysis(theme.name, theme.confidence, vector)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embedder.embed(texts)


def near_query_vectors(
    query_vectors: Sequence[Sequence[float]], count: int, noise: float = 0.05, seed: int = 9
) -> npt.NDArray[np.float32]:
    """Insight n's vector: the embedding of QUERIES[n % 10] plus noise (cosine to it ~0.75),
    so every query has ~1,000 close neighbours, as a person's real notes on a subject would.
    Embedding 10k generated sentences instead (--embed-corpus) takes minutes on a small CPU."""
    rng = np.random.default_rng(seed)
    base = np.asarray(query_vectors, dtype=np.float32)[np.arange(count) % len(query_vectors)]
    raw = base + noise * rng.normal(size=base.shape).astype(np.float32)
    unit: npt.NDArray[np.float32] = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return unit


def infos_for(
    corpus: list[tuple[str, str, tuple[str, ...]]], now: dt.datetime
) -> dict[str, InsightInfo]:
    rng = random.Random(5)
    return {
        f"i{n:05d}": InsightInfo(
            f"i{n:05d}", text, tags, theme, now - dt.timedelta(days=rng.randint(0, 365))
        )
        for n, (text, theme, tags) in enumerate(corpus)
    }
