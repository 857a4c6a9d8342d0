"""Turning neighbours into suggestions, and choosing the best few. Pure functions.

- RELATED: the person's insights nearest to the context (or the viewed insight), score = cosine
  similarity, at least MIN_SIMILARITY. When both a context and an insight are given, an insight
  found from both keeps its best score and the reason of that source.
- RESURFACE: such an insight written more than RESURFACE_AFTER ago (instead of RELATED).
- TAG: tags on the TAG_NEIGHBOURS nearest insights, each weighted by similarity:
  score = (weight of the insights carrying it / weight of all of them) x their mean similarity.
- THEME: the theme the nlp service predicts for the context, score = its confidence.

Order: insights first, then tags and theme, each part best score first. Tags and theme together
take at most a third of the slots while there are insights to fill the rest. Anything the person
rejected is dropped before the slots are counted, so it never comes back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.assistant.domain import reasons
from services.assistant.domain.models import (
    InsightInfo,
    Rejections,
    SimilarInsight,
    Suggestion,
    SuggestionKind,
    TextAnalysis,
)
from services.assistant.domain.reasons import Source

MIN_SIMILARITY = 0.3
RESURFACE_AFTER = dt.timedelta(days=14)
TAG_NEIGHBOURS = 10
MAX_TAGS = 3


def suggestion_id(kind: SuggestionKind, target: str) -> str:
    """Stable for the same kind and target, so a verdict on it holds for every later request."""
    return hashlib.sha256(f"{kind.value}\x1f{target}".encode()).hexdigest()[:24]


def make(kind: SuggestionKind, target: str, score: float, reason: str) -> Suggestion:
    score = min(1.0, max(0.0, score))
    return Suggestion(suggestion_id(kind, target), kind, target, score, reason)


@dataclass(frozen=True)
class Neighbour:
    hit: SimilarInsight
    source: Source


def merge(found: Mapping[Source, Sequence[SimilarInsight]]) -> list[Neighbour]:
    """One neighbour per insight, with its best score; most similar first."""
    best: dict[str, Neighbour] = {}
    for source, hits in found.items():
        for hit in hits:
            known = best.get(hit.insight_id)
            if known is None or hit.score > known.hit.score:
                best[hit.insight_id] = Neighbour(hit, source)
    return sorted(best.values(), key=lambda n: (-n.hit.score, n.hit.insight_id))


def insight_suggestions(
    neighbours: Iterable[Neighbour], infos: Mapping[str, InsightInfo], now: dt.datetime
) -> list[Suggestion]:
    """RELATED or RESURFACE per neighbour that is similar enough and still the person's."""
    out = []
    for n in neighbours:
        info = infos.get(n.hit.insight_id)
        if info is None or n.hit.score < MIN_SIMILARITY:
            continue
        label = n.hit.label or info.text
        age = now - info.create_time
        if age >= RESURFACE_AFTER:
            reason = reasons.resurface(n.source, age, n.hit.score, label)
            out.append(make(SuggestionKind.RESURFACE, info.id, n.hit.score, reason))
        else:
            reason = reasons.related(n.source, n.hit.score, label)
            out.append(make(SuggestionKind.RELATED, info.id, n.hit.score, reason))
    return out


def tag_suggestions(
    neighbours: Sequence[Neighbour], infos: Mapping[str, InsightInfo], has: Iterable[str] = ()
) -> list[Suggestion]:
    """Tags voted by the nearest insights, weighted by similarity; tags in `has` left out."""
    near = [n for n in neighbours if n.hit.score >= MIN_SIMILARITY and n.hit.insight_id in infos]
    near = near[:TAG_NEIGHBOURS]
    total = sum(n.hit.score for n in near)
    if total <= 0:
        return []
    skip = {t.casefold() for t in has}
    weight: dict[str, float] = {}
    voters: dict[str, int] = {}
    for n in near:
        for tag in dict.fromkeys(infos[n.hit.insight_id].tags):
            if tag.casefold() in skip:
                continue
            weight[tag] = weight.get(tag, 0.0) + n.hit.score
            voters[tag] = voters.get(tag, 0) + 1
    scored = [
        make(SuggestionKind.TAG, tag, (w / total) * (w / voters[tag]), reasons.tag(voters[tag]))
        for tag, w in weight.items()
    ]
    scored.sort(key=lambda s: (-s.score, s.target))
    return scored[:MAX_TAGS]


def theme_suggestion(analysis: TextAnalysis | None) -> list[Suggestion]:
    if analysis is None or not analysis.theme:
        return []
    reason = reasons.theme(analysis.theme, analysis.theme_confidence)
    return [make(SuggestionKind.THEME, analysis.theme, analysis.theme_confidence, reason)]


def choose(
    insights: Sequence[Suggestion],
    labels: Sequence[Suggestion],
    rejections: Rejections,
    limit: int,
) -> list[Suggestion]:
    """The best `limit`, insights first, without anything rejected or repeated."""
    seen: set[str] = set()

    def keep(items: Iterable[Suggestion]) -> list[Suggestion]:
        kept = []
        for s in items:
            if s.id not in seen and not rejections.excludes(s):
                seen.add(s.id)
                kept.append(s)
        return kept

    ordered_insights = keep(sorted(insights, key=lambda s: (-s.score, s.target)))
    ordered_labels = keep(sorted(labels, key=lambda s: (-s.score, s.kind.value, s.target)))
    label_slots = min(len(ordered_labels), max(limit // 3, limit - len(ordered_insights)))
    if limit > 1 and ordered_labels and label_slots == 0:
        label_slots = 1
    chosen = ordered_insights[: limit - label_slots] + ordered_labels[:label_slots]
    return chosen[:limit]
