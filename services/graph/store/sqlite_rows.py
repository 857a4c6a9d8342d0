"""Row ⇄ domain translation of SqliteGraphStore."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from services.common.clock import from_micros, to_micros
from services.graph.domain.models import Node, Relationship, RelationType
from services.graph.domain.vectors import from_blob, to_blob

NODE_COLUMNS = "owner_id, insight_id, label, theme, embedding, entities_json, keywords_json"
RELATIONSHIP_COLUMNS = (
    "id, owner_id, source_id, target_id, pair_lo, pair_hi, type, score, reason, create_us"
)


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def node_row(node: Node) -> tuple[Any, ...]:
    return (
        node.owner_id,
        node.insight_id,
        node.label,
        node.theme,
        to_blob(node.embedding) if node.embedding is not None else None,
        json.dumps(list(node.entities)),
        json.dumps(list(node.keywords)),
    )


def node_from_row(row: sqlite3.Row) -> Node:
    blob = row["embedding"]
    return Node(
        insight_id=row["insight_id"],
        owner_id=row["owner_id"],
        label=row["label"],
        theme=row["theme"],
        embedding=from_blob(bytes(blob)) if blob is not None else None,
        entities=tuple(json.loads(row["entities_json"])),
        keywords=tuple(json.loads(row["keywords_json"])),
    )


def relationship_row(rel: Relationship) -> tuple[Any, ...]:
    lo, hi = pair(rel.source_id, rel.target_id)
    return (
        rel.id,
        rel.owner_id,
        rel.source_id,
        rel.target_id,
        lo,
        hi,
        rel.type.value,
        rel.score,
        rel.reason,
        to_micros(rel.create_time),
    )


def relationship_from_row(row: sqlite3.Row) -> Relationship:
    return Relationship(
        id=row["id"],
        owner_id=row["owner_id"],
        source_id=row["source_id"],
        target_id=row["target_id"],
        type=RelationType(row["type"]),
        score=float(row["score"]),
        reason=row["reason"],
        create_time=from_micros(row["create_us"]),
    )
