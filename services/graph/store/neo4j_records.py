"""Neo4j value ⇄ domain translation of Neo4jGraphStore."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from services.common.clock import from_micros, to_micros
from services.graph.domain.models import Node, Relationship
from services.graph.domain.reasons import distinct_keys
from services.graph.store.neo4j_cypher import TYPE_OF_LINK


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def node_params(node: Node) -> dict[str, Any]:
    """The parameters of UPSERT_NODE / ADD_NODE_IF_ABSENT (a None embedding removes it)."""
    return {
        "owner_id": node.owner_id,
        "insight_id": node.insight_id,
        "label": node.label,
        "theme": node.theme,
        "embedding": (
            None if node.embedding is None else [float(x) for x in node.embedding.tolist()]
        ),
        "entities": list(node.entities),
        "keywords": list(node.keywords),
        "entity_keys": distinct_keys(node.entities),
    }


def node_from_map(value: Mapping[str, Any]) -> Node:
    embedding = value.get("embedding")
    return Node(
        insight_id=str(value["insight_id"]),
        owner_id=str(value["owner_id"]),
        label=str(value["label"]),
        theme=str(value["theme"]),
        embedding=None if embedding is None else np.asarray(embedding, dtype=np.float32),
        entities=tuple(str(e) for e in value.get("entities") or ()),
        keywords=tuple(str(k) for k in value.get("keywords") or ()),
    )


def link_params(rel: Relationship) -> dict[str, Any]:
    """One relationship as CREATE_AUTOMATIC's `link` / CREATE_MANUAL's `$link`."""
    lo, hi = pair(rel.source_id, rel.target_id)
    return {
        "owner_id": rel.owner_id,
        "source_id": rel.source_id,
        "target_id": rel.target_id,
        "props": {
            "id": rel.id,
            "owner_id": rel.owner_id,
            "pair_lo": lo,
            "pair_hi": hi,
            "score": float(rel.score),
            "reason": rel.reason,
            "create_us": to_micros(rel.create_time),
        },
    }


def relationship_from_map(value: Mapping[str, Any]) -> Relationship:
    return Relationship(
        id=str(value["id"]),
        owner_id=str(value["owner_id"]),
        source_id=str(value["source_id"]),
        target_id=str(value["target_id"]),
        type=TYPE_OF_LINK[str(value["type"])],
        score=float(value["score"]),
        reason=str(value["reason"]),
        create_time=from_micros(int(value["create_us"])),
    )
