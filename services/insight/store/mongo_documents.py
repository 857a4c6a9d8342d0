"""MongoInsightStore's documents: settings parsing, the domain ⇄ document mapping, filters that
never let a user value act as a query operator, and driver errors mapped to domain errors."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, ParamSpec, TypeVar

from bson.int64 import Int64
from pymongo import WriteConcern
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    WTimeoutError,
)
from pymongo.read_preferences import _ServerMode, make_read_preference, read_pref_mode_from_name

from services.common.clock import from_micros, to_micros
from services.common.errors import InvalidArgument
from services.common.store_guard import unavailable_on
from services.insight.domain.models import (
    AudioInfo,
    Entity,
    Insight,
    InsightFilter,
    Source,
    Status,
)

Document = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")

READ_PREFERENCES: Final = (
    "primary",
    "primaryPreferred",
    "secondary",
    "secondaryPreferred",
    "nearest",
)


def parse_write_concern(text: str) -> WriteConcern:
    """'majority' (the default: a write survives the loss of the primary) or a number of nodes;
    writes are always journaled before they are acknowledged."""
    value = text.strip()
    if value.isdigit():
        return WriteConcern(w=int(value), j=True)
    if value == "majority":
        return WriteConcern(w="majority", j=True)
    raise ValueError(f"write concern must be 'majority' or a number of nodes, not {text!r}")


def parse_read_preference(text: str) -> _ServerMode:
    """One of READ_PREFERENCES. Anything but "primary" may read data a moment old: a read that
    follows a write of the same request could miss it."""
    name = text.strip()
    if name not in READ_PREFERENCES:
        raise ValueError(f"read preference must be one of {', '.join(READ_PREFERENCES)}")
    return make_read_preference(read_pref_mode_from_name(name), None)


def checked_text(value: object, field: str) -> str:
    """A value for a filter: a plain str, never a document a server could read as operators."""
    if not isinstance(value, str):
        raise InvalidArgument.field(field, "must be a string")
    return str(value)


def checked_integer(value: object, field: str) -> Int64:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument.field(field, "must be an integer")
    return Int64(value)


def checked_micros(value: object, field: str) -> Int64:
    if not isinstance(value, dt.datetime):
        raise InvalidArgument.field(field, "must be a time")
    return Int64(to_micros(value))


def _literal_pattern(word: str) -> str:
    """A regular expression that matches `word` literally in PCRE (MongoDB) and RE2 (FerretDB):
    letters, digits and non-ASCII characters stand for themselves (none is a metacharacter in
    either); every other character is written as \\x{..}, which also keeps NUL out of the pattern
    (a BSON regular expression is a C string)."""
    return "".join(
        char if char.isalnum() or not char.isascii() else f"\\x{{{ord(char):02x}}}" for char in word
    )


def insight_document(insight: Insight) -> Document:
    """Every stored field of an insight but _id, owner_id and audio_blob."""
    audio = insight.audio
    text = checked_text(insight.text, "text")
    return {
        "text": text,
        "text_folded": text.casefold(),
        "tags": [checked_text(tag, "tags") for tag in insight.tags],
        "source": insight.source.value,
        "status": insight.status.value,
        "status_reason": checked_text(insight.status_reason, "status_reason"),
        "language": checked_text(insight.language, "language"),
        # Sub-documents, not [text, label] pairs: FerretDB v1 stores no nested arrays.
        "entities": [
            {
                "text": checked_text(e.text, "entities.text"),
                "label": checked_text(e.label, "entities.label"),
            }
            for e in insight.entities
        ],
        "keywords": [checked_text(keyword, "keywords") for keyword in insight.keywords],
        "theme": checked_text(insight.theme, "theme"),
        "theme_confidence": float(insight.theme_confidence),
        "theme_set_by_person": bool(insight.theme_set_by_person),
        "audio": None
        if audio is None
        else {
            "format": checked_text(audio.format, "audio.format"),
            "size_bytes": checked_integer(audio.size_bytes, "audio.size_bytes"),
            "duration_seconds": float(audio.duration_seconds),
        },
        "version": checked_integer(insight.version, "version"),
        "create_us": checked_micros(insight.create_time, "create_time"),
        "update_us": checked_micros(insight.update_time, "update_time"),
    }


def insight_from_document(doc: Document) -> Insight:
    audio = doc.get("audio")
    return Insight(
        id=str(doc["_id"]),
        owner_id=str(doc["owner_id"]),
        text=str(doc["text"]),
        tags=tuple(str(tag) for tag in doc["tags"]),
        source=Source(doc["source"]),
        status=Status(doc["status"]),
        status_reason=str(doc["status_reason"]),
        language=str(doc["language"]),
        entities=tuple(Entity(str(e["text"]), str(e["label"])) for e in doc["entities"]),
        keywords=tuple(str(keyword) for keyword in doc["keywords"]),
        theme=str(doc["theme"]),
        theme_confidence=float(doc["theme_confidence"]),
        theme_set_by_person=bool(doc["theme_set_by_person"]),
        audio=None
        if audio is None
        else AudioInfo(
            format=str(audio["format"]),
            size_bytes=int(audio["size_bytes"]),
            duration_seconds=float(audio["duration_seconds"]),
        ),
        version=int(doc["version"]),
        create_time=from_micros(int(doc["create_us"])),
        update_time=from_micros(int(doc["update_us"])),
    )


def insight_filter(owner_id: str, where: InsightFilter) -> Document:
    clauses: list[Document] = [{"owner_id": checked_text(owner_id, "owner_id")}]
    if where.tag:
        # On an array, equality matches any element.
        clauses.append({"tags": checked_text(where.tag, "tag")})
    if where.theme:
        clauses.append({"theme": checked_text(where.theme, "theme")})
    if where.status is not None:
        clauses.append({"status": Status(where.status).value})
    if where.source is not None:
        clauses.append({"source": Source(where.source).value})
    if where.created_after is not None:
        clauses.append(
            {"create_us": {"$gte": checked_micros(where.created_after, "created_after")}}
        )
    if where.created_before is not None:
        clauses.append(
            {"create_us": {"$lt": checked_micros(where.created_before, "created_before")}}
        )
    words = [
        {"text_folded": {"$regex": _literal_pattern(word)}}
        for word in checked_text(where.query, "query").casefold().split()
    ]
    if words and where.meaning_matches:
        close = sorted(checked_text(i, "meaning_matches") for i in where.meaning_matches)
        clauses.append({"$or": [{"$and": words}, {"_id": {"$in": close}}]})
    else:
        clauses += words
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# "The database cannot be reached in time" becomes Unavailable (the caller may retry); only
# "cannot be reached" (no server to select, a connection lost) opens the outage breaker: a query
# over its time limit or a slow write concern means the engine is there.
translate_errors = unavailable_on(
    (ConnectionFailure, ExecutionTimeout, WTimeoutError),
    "insight store is unavailable",
    store="insight",
    outage=(ConnectionFailure,),
)
