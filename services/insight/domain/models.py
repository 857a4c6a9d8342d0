"""The insight service's domain types: plain data, no gRPC or database types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum


class Source(Enum):
    TEXT = "TEXT"
    AUDIO = "AUDIO"


class Status(Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str
    create_time: dt.datetime


@dataclass(frozen=True)
class Entity:
    text: str
    label: str


@dataclass(frozen=True)
class AudioInfo:
    format: str
    size_bytes: int
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class Insight:
    id: str
    owner_id: str
    text: str
    tags: tuple[str, ...]
    source: Source
    status: Status
    version: int
    create_time: dt.datetime
    update_time: dt.datetime
    status_reason: str = ""
    language: str = ""
    entities: tuple[Entity, ...] = ()
    keywords: tuple[str, ...] = ()
    theme: str = ""
    theme_confidence: float = 0.0
    # True when the theme is the person's own correction: the pipeline never overwrites it.
    theme_set_by_person: bool = False
    audio: AudioInfo | None = None


@dataclass(frozen=True)
class InsightFilter:
    tag: str = ""
    theme: str = ""
    status: Status | None = None
    source: Source | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    # Words the text must all contain; with `meaning_matches`, either condition admits an insight.
    query: str = ""
    # Insights whose meaning is close to `query` (found by the domain, not given by the caller).
    meaning_matches: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PageCursor:
    """Position after the last insight of a page, in newest-first order."""

    create_time: dt.datetime
    insight_id: str


@dataclass(frozen=True)
class InsightPage:
    insights: list[Insight]
    next_cursor: PageCursor | None
    total_size: int


@dataclass(frozen=True)
class InsightChanges:
    """A person's edit; None means "leave as is"."""

    text: str | None = None
    tags: tuple[str, ...] | None = None
    theme: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class Enrichment:
    language: str
    entities: tuple[Entity, ...]
    keywords: tuple[str, ...]
    theme: str
    theme_confidence: float
    transcript: str = ""
    audio_duration_seconds: float = 0.0


@dataclass(frozen=True)
class NewAccount:
    id: str
    email: str
    display_name: str
    password_hash: str
    create_time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
