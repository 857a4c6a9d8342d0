"""Ranking and reasons of suggestions: pure functions, no I/O."""

from __future__ import annotations

import datetime as dt

from services.assistant.domain import ranking, reasons
from services.assistant.domain.models import (
    InsightInfo,
    Rejections,
    SimilarInsight,
    SuggestionKind,
    TextAnalysis,
)
from services.assistant.domain.reasons import Source

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def info(id_: str, days_old: int = 1, tags: tuple[str, ...] = ()) -> InsightInfo:
    return InsightInfo(id_, f"text of {id_}", tags, "", NOW - dt.timedelta(days=days_old))


def hit(id_: str, score: float) -> SimilarInsight:
    return SimilarInsight(id_, score, f"label of {id_}", "")


def test_ids_are_stable_and_differ_by_kind_and_target() -> None:
    a = ranking.suggestion_id(SuggestionKind.RELATED, "i1")
    assert a == ranking.suggestion_id(SuggestionKind.RELATED, "i1")
    assert a != ranking.suggestion_id(SuggestionKind.RESURFACE, "i1")
    assert a != ranking.suggestion_id(SuggestionKind.RELATED, "i2")


def test_merge_keeps_each_insight_once_with_its_best_source() -> None:
    merged = ranking.merge(
        {Source.CONTEXT: [hit("a", 0.5), hit("b", 0.9)], Source.INSIGHT: [hit("a", 0.7)]}
    )
    assert [(n.hit.insight_id, n.hit.score, n.source) for n in merged] == [
        ("b", 0.9, Source.CONTEXT),
        ("a", 0.7, Source.INSIGHT),
    ]


def test_recent_insights_are_related_and_old_ones_resurface() -> None:
    neighbours = ranking.merge(
        {Source.CONTEXT: [hit("new", 0.78), hit("old", 0.7), hit("weak", 0.1), hit("gone", 0.9)]}
    )
    infos = {"new": info("new", 3), "old": info("old", 36), "weak": info("weak")}
    found = ranking.insight_suggestions(neighbours, infos, NOW)
    assert [(s.kind, s.target) for s in found] == [
        (SuggestionKind.RELATED, "new"),
        (SuggestionKind.RESURFACE, "old"),
    ]
    assert found[0].reason == 'similar to what you are writing (0.78): "label of new"'
    assert found[1].reason == (
        'you wrote this 5 weeks ago and it matches what you are writing (0.70): "label of old"'
    )
    assert found[0].insight_id == "new" and found[0].value == ""


def test_tags_are_voted_by_similar_insights_weighted_by_similarity() -> None:
    neighbours = ranking.merge(
        {Source.CONTEXT: [hit("a", 0.9), hit("b", 0.8), hit("c", 0.6), hit("d", 0.2)]}
    )
    infos = {
        "a": info("a", tags=("rust", "async")),
        "b": info("b", tags=("rust",)),
        "c": info("c", tags=("rust", "cooking", "mine")),
        "d": info("d", tags=("ignored",)),
    }
    tags = ranking.tag_suggestions(neighbours, infos, has=("MINE",))
    assert [t.target for t in tags] == ["rust", "async", "cooking"]
    assert tags[0].reason == "used on 3 similar insights"
    assert tags[1].reason == "used on 1 similar insight"
    assert tags[0].score > tags[1].score > tags[2].score
    assert all(0 <= t.score <= 1 and t.value == t.target and not t.insight_id for t in tags)


def test_theme_suggestion_names_its_confidence() -> None:
    (theme,) = ranking.theme_suggestion(TextAnalysis("Rust", 0.86, []))
    assert theme.kind is SuggestionKind.THEME and theme.value == "Rust"
    assert theme.reason == 'what you are writing reads as "Rust" (confidence 0.86)'
    assert ranking.theme_suggestion(TextAnalysis("", 0.0, [])) == []
    assert ranking.theme_suggestion(None) == []


def test_choose_puts_insights_first_and_leaves_labels_a_third() -> None:
    insights = [
        ranking.make(SuggestionKind.RELATED, f"i{n}", 0.9 - n / 100, "r") for n in range(20)
    ]
    labels = [ranking.make(SuggestionKind.TAG, f"t{n}", 0.5, "r") for n in range(4)]
    labels.append(ranking.make(SuggestionKind.THEME, "Rust", 0.9, "r"))
    chosen = ranking.choose(insights, labels, Rejections(), 10)
    assert [s.kind for s in chosen[:7]] == [SuggestionKind.RELATED] * 7
    assert chosen[7].kind is SuggestionKind.THEME and len(chosen) == 10
    few = ranking.choose(insights[:2], labels, Rejections(), 10)
    assert len(few) == 7  # labels fill the room insights leave
    assert [s.kind for s in ranking.choose(insights, labels, Rejections(), 1)] == [
        SuggestionKind.RELATED
    ]


def test_rejected_suggestions_and_insights_are_dropped() -> None:
    related = [ranking.make(SuggestionKind.RELATED, t, 0.8, "r") for t in ("a", "b", "c")]
    resurface = [ranking.make(SuggestionKind.RESURFACE, "d", 0.7, "r")]
    tag = ranking.make(SuggestionKind.TAG, "rust", 0.5, "r")
    rejections = Rejections(frozenset({related[0].id, tag.id}), frozenset({"d"}))
    chosen = ranking.choose(related + resurface, [tag], rejections, 10)
    assert [s.target for s in chosen] == ["b", "c"]


def test_age_phrases() -> None:
    assert reasons.age_phrase(dt.timedelta(days=15)) == "2 weeks ago"
    assert reasons.age_phrase(dt.timedelta(days=90)) == "3 months ago"
    assert reasons.age_phrase(dt.timedelta(days=800)) == "2 years ago"
    assert reasons.age_phrase(dt.timedelta(days=1)) == "1 day ago"


def test_short_label_cuts_at_a_word() -> None:
    label = reasons.short_label("word " * 30, 20)
    assert len(label) <= 20 and label.endswith("…") and "wor…" not in label
