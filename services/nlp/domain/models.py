"""Values the nlp domain works with."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entity:
    text: str
    label: str


@dataclass(frozen=True)
class ParsedText:
    """What the linguistic pipeline found: entities and normalised noun-chunk terms, in order."""

    entities: list[Entity]
    terms: list[str]


@dataclass(frozen=True)
class Theme:
    name: str
    confidence: float


@dataclass(frozen=True)
class Analysis:
    language: str
    entities: list[Entity]
    keywords: list[str]
    theme: Theme | None
    embedding: list[float]


@dataclass(frozen=True)
class CorpusCounts:
    """An owner's corpus: how many documents it holds, and in how many each term occurs."""

    document_count: int
    document_frequency: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TranscriptSegment:
    text: str
    start_seconds: float
    end_seconds: float
    confidence: float


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[TranscriptSegment]
    duration_seconds: float
