"""Grouping recognised words into phrase segments at pauses."""

from __future__ import annotations

import pytest

from services.nlp.domain.segments import TimedWord, clean_word, group_words, is_filler


def w(text: str, start: float, end: float, confidence: float = 0.5) -> TimedWord:
    return TimedWord(text, start, end, confidence)


def test_fillers_are_recognised() -> None:
    assert all(is_filler(t) for t in ("<s>", "</s>", "<sil>", "[NOISE]", "++UH++"))
    assert not is_filler("berlin")
    assert clean_word("read(2)") == "read"


def test_silences_split_phrases_and_fillers_never_show() -> None:
    tokens = [
        w("<s>", 0.0, 0.1, 1.0),
        w("apple", 0.1, 0.4, 0.8),
        w("is", 0.4, 0.5, 0.6),
        w("<sil>", 0.5, 0.9, 1.0),
        w("[NOISE]", 0.9, 0.95, 1.0),
        w("opening(2)", 0.95, 1.3, 0.4),
        w("</s>", 1.3, 1.5, 1.0),
    ]
    segments = group_words(tokens)
    assert [s.text for s in segments] == ["apple is", "opening"]
    assert (segments[0].start_seconds, segments[0].end_seconds) == (0.1, 0.5)
    assert segments[0].confidence == pytest.approx(0.7)
    assert (segments[1].start_seconds, segments[1].end_seconds) == (0.95, 1.3)


def test_short_silence_and_short_gaps_do_not_split() -> None:
    tokens = [w("a", 0.0, 0.2), w("<sil>", 0.2, 0.3), w("lab", 0.3, 0.6), w("in", 0.7, 0.8)]
    assert [s.text for s in group_words(tokens)] == ["a lab in"]


def test_a_long_gap_without_a_silence_token_splits() -> None:
    tokens = [w("research", 0.0, 0.5), w("lab", 1.0, 1.3)]
    assert [s.text for s in group_words(tokens)] == ["research", "lab"]


def test_unbroken_speech_is_cut_at_the_maximum_length() -> None:
    tokens = [w(f"w{i}", i * 0.5, i * 0.5 + 0.5) for i in range(10)]
    segments = group_words(tokens, max_length=2.0)
    assert [len(s.text.split()) for s in segments] == [4, 4, 2]
    assert all(s.end_seconds - s.start_seconds <= 2.0 for s in segments)


def test_confidence_is_clamped_to_a_probability() -> None:
    (segment,) = group_words([w("x", 0.0, 0.1, 1.0001)])
    assert segment.confidence == 1.0


def test_nothing_recognised_gives_no_segments() -> None:
    assert group_words([w("<s>", 0.0, 0.1), w("</s>", 0.1, 0.2)]) == []
