"""Grouping recognised words into phrases: a new segment starts at every pause.

A pause is a silence or filler token (<sil>, [NOISE], ...) of at least MIN_PAUSE_SECONDS, or a gap
that long between two words. A segment is also closed once it spans MAX_SEGMENT_SECONDS, so a long
stretch of unbroken speech still yields segments a person can seek to. A segment's confidence is
the mean of its words' posterior probabilities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.nlp.domain.models import TranscriptSegment

MIN_PAUSE_SECONDS = 0.25
MAX_SEGMENT_SECONDS = 12.0
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class TimedWord:
    """One token of a recogniser's best path, fillers included."""

    text: str
    start_seconds: float
    end_seconds: float
    confidence: float


def is_filler(token: str) -> bool:
    """Sentence markers, silence and noise: <s>, </s>, <sil>, [NOISE], ++UH++ and the like."""
    return not token or token[0] in "<[" or token.startswith("++")


def clean_word(token: str) -> str:
    """ "read(2)" -> "read": drops the dictionary's alternate-pronunciation marker."""
    return _ALTERNATE_PRONUNCIATION.sub("", token)


def group_words(
    tokens: Iterable[TimedWord],
    min_pause: float = MIN_PAUSE_SECONDS,
    max_length: float = MAX_SEGMENT_SECONDS,
) -> list[TranscriptSegment]:
    segments: list[TranscriptSegment] = []
    current: list[TimedWord] = []

    def close() -> None:
        if current:
            segments.append(
                TranscriptSegment(
                    text=" ".join(word.text for word in current),
                    start_seconds=current[0].start_seconds,
                    end_seconds=current[-1].end_seconds,
                    confidence=sum(word.confidence for word in current) / len(current),
                )
            )
            current.clear()

    for token in tokens:
        if is_filler(token.text):
            if token.end_seconds - token.start_seconds >= min_pause:
                close()
            continue
        word = TimedWord(
            clean_word(token.text),
            token.start_seconds,
            token.end_seconds,
            min(1.0, max(0.0, token.confidence)),
        )
        if current and (
            word.start_seconds - current[-1].end_seconds >= min_pause
            or word.end_seconds - current[0].start_seconds > max_length
        ):
            close()
        current.append(word)
    close()
    return segments
