"""The GraphStore contract: every adapter (see graph_backends.GRAPH_BACKENDS) must pass it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

import numpy as np
import pytest

from services.common.errors import AlreadyExists
from services.graph.domain.models import Node, Relationship, RelationType, Vector
from services.graph.store.port import GraphStore

if TYPE_CHECKING:
    from tests.contract.graph_backends import ReopenGraphStore

# The `graph_store` and `reopen_graph_store` fixtures, parametrized over every adapter.
pytest_plugins = ["tests.contract.graph_backends"]

ALICE, BOB = "alice", "bob"
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def vec(*values: float) -> Vector:
    raw = np.zeros(8, dtype=np.float32)
    raw[: len(values)] = values
    result: Vector = (raw / np.linalg.norm(raw)).astype(np.float32)
    return result


def node(
    insight_id: str,
    owner: str = ALICE,
    embedding: Vector | None = None,
    entities: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
) -> Node:
    return Node(insight_id, owner, f"label {insight_id}", "work", embedding, entities, keywords)


def rel(
    source: str,
    target: str,
    kind: RelationType = RelationType.SEMANTIC,
    score: float = 0.7,
    owner: str = ALICE,
) -> Relationship:
    return Relationship(uuid.uuid4().hex, owner, source, target, kind, score, "why", T0)


def pairs(relationships: list[Relationship]) -> set[tuple[str, str, RelationType]]:
    return {(r.source_id, r.target_id, r.type) for r in relationships}


async def test_node_round_trip_is_scoped_by_owner(graph_store: GraphStore) -> None:
    stored = node("a", embedding=vec(1, 2), entities=("Apple", "Berlin"), keywords=("graphs",))
    await graph_store.save_node_links(stored, [])
    found = await graph_store.get_node(ALICE, "a")
    assert found is not None and found.embedding is not None
    assert (found.label, found.theme, found.entities, found.keywords) == (
        "label a",
        "work",
        ("Apple", "Berlin"),
        ("graphs",),
    )
    assert np.allclose(found.embedding, vec(1, 2))
    assert await graph_store.get_node(BOB, "a") is None
    assert [n.insight_id for n in await graph_store.get_nodes(ALICE, ["a", "missing"])] == ["a"]


async def test_add_node_if_absent_never_overwrites(graph_store: GraphStore) -> None:
    assert await graph_store.add_node_if_absent(node("a"))
    await graph_store.save_node_links(node("a", embedding=vec(1)), [])
    assert not await graph_store.add_node_if_absent(node("a"))
    found = await graph_store.get_node(ALICE, "a")
    assert found is not None and found.embedding is not None


async def test_relinking_replaces_automatic_edges_and_keeps_manual(graph_store: GraphStore) -> None:
    for name in "bcd":
        await graph_store.save_node_links(node(name), [])
    assert await graph_store.save_node_links(node("a"), [rel("a", "b"), rel("a", "c")]) == 2
    await graph_store.add_manual_relationship(rel("d", "a", RelationType.MANUAL, 1.0))
    await graph_store.save_node_links(node("b"), [rel("b", "d")])  # drops a→b (touches b)
    assert pairs(await graph_store.relationships_touching(ALICE, ["a"])) == {
        ("a", "c", RelationType.SEMANTIC),
        ("d", "a", RelationType.MANUAL),
    }
    assert await graph_store.save_node_links(node("a"), [rel("a", "d", score=0.9)]) == 1
    assert pairs(await graph_store.relationships_touching(ALICE, ["a"])) == {
        ("a", "d", RelationType.SEMANTIC),
        ("d", "a", RelationType.MANUAL),
    }


async def test_deleting_with_suppress_blocks_that_pair_and_type(graph_store: GraphStore) -> None:
    semantic, shared = rel("a", "b"), rel("a", "b", RelationType.SHARED_ENTITY, 0.5)
    await graph_store.save_node_links(node("b"), [])
    await graph_store.save_node_links(node("a"), [semantic, shared])
    assert await graph_store.delete_relationship(ALICE, semantic.id, suppress=True)
    assert not await graph_store.delete_relationship(ALICE, semantic.id, suppress=True)
    suppressed = await graph_store.suppressed_partners(ALICE, "b")
    assert suppressed[RelationType.SEMANTIC] == {"a"}
    assert suppressed[RelationType.SHARED_ENTITY] == set()
    # Either direction, on a later re-link of either end: not written again.
    written = await graph_store.save_node_links(
        node("b"), [rel("b", "a"), rel("b", "a", RelationType.SHARED_ENTITY)]
    )
    assert written == 1
    assert pairs(await graph_store.relationships_touching(ALICE, ["a"])) == {
        ("b", "a", RelationType.SHARED_ENTITY)
    }


async def test_deleting_without_suppress_forgets_nothing(graph_store: GraphStore) -> None:
    manual = rel("a", "b", RelationType.MANUAL, 1.0)
    await graph_store.add_manual_relationship(manual)
    assert await graph_store.get_relationship(BOB, manual.id) is None
    assert not await graph_store.delete_relationship(BOB, manual.id, suppress=False)
    assert await graph_store.delete_relationship(ALICE, manual.id, suppress=False)
    assert await graph_store.get_relationship(ALICE, manual.id) is None
    assert all(not s for s in (await graph_store.suppressed_partners(ALICE, "a")).values())


async def test_manual_pair_is_unique_in_either_direction(graph_store: GraphStore) -> None:
    await graph_store.save_node_links(node("b"), [])
    await graph_store.save_node_links(node("a"), [rel("a", "b")])
    await graph_store.add_manual_relationship(rel("a", "b", RelationType.MANUAL, 1.0))
    with pytest.raises(AlreadyExists):
        await graph_store.add_manual_relationship(rel("b", "a", RelationType.MANUAL, 1.0))
    await graph_store.add_manual_relationship(rel("b", "a", RelationType.MANUAL, 1.0, owner=BOB))
    assert len(await graph_store.relationships_touching(ALICE, ["a"])) == 2


async def test_delete_node_cascades_and_is_idempotent(graph_store: GraphStore) -> None:
    for name, v in (("b", vec(1)), ("c", vec(1, 1))):
        await graph_store.save_node_links(node(name, embedding=v), [])
    gone = rel("a", "b")
    await graph_store.save_node_links(node("a", embedding=vec(1)), [gone, rel("a", "c")])
    await graph_store.add_manual_relationship(rel("c", "a", RelationType.MANUAL, 1.0))
    await graph_store.delete_relationship(ALICE, gone.id, suppress=True)
    assert await graph_store.delete_node(ALICE, "a")
    assert not await graph_store.delete_node(ALICE, "a")
    assert await graph_store.get_node(ALICE, "a") is None
    assert await graph_store.relationships_touching(ALICE, ["a", "b", "c"]) == []
    assert all(not s for s in (await graph_store.suppressed_partners(ALICE, "b")).values())
    hits = await graph_store.nearest(ALICE, vec(1), 10, -1.0, "")
    assert [h.insight_id for h in hits] == ["b", "c"]


async def test_nearest_orders_filters_limits_and_scopes(graph_store: GraphStore) -> None:
    await graph_store.save_node_links(node("far", embedding=vec(0, 1)), [])
    await graph_store.save_node_links(node("near", embedding=vec(1, 0.1)), [])
    await graph_store.save_node_links(node("mid", embedding=vec(1, 1)), [])
    await graph_store.save_node_links(node("self", embedding=vec(1)), [])
    await graph_store.save_node_links(node("bobs", owner=BOB, embedding=vec(1)), [])
    await graph_store.save_node_links(node("bare"), [])
    hits = await graph_store.nearest(ALICE, vec(1), 10, 0.5, "self")
    assert [h.insight_id for h in hits] == ["near", "mid"]
    assert hits[0].score == pytest.approx(float(vec(1) @ vec(1, 0.1)), abs=1e-5)
    assert [h.insight_id for h in await graph_store.nearest(ALICE, vec(1), 1, -1, "self")] == [
        "near"
    ]
    # A re-embedded node moves; a deleted one disappears.
    await graph_store.save_node_links(node("far", embedding=vec(1, 0.01)), [])
    await graph_store.delete_node(ALICE, "near")
    hits = await graph_store.nearest(ALICE, vec(1), 2, 0.5, "self")
    assert [h.insight_id for h in hits] == ["far", "mid"]


async def test_nearest_survives_reopening(
    graph_store: GraphStore, reopen_graph_store: ReopenGraphStore
) -> None:
    await graph_store.save_node_links(node("a", embedding=vec(1, 0.2)), [])
    assert await graph_store.nearest(ALICE, vec(1), 5, 0.0, "") != []  # loaded, then written
    await graph_store.save_node_links(node("b", embedding=vec(1)), [])
    other = await reopen_graph_store()
    hits = await other.nearest(ALICE, vec(1), 5, 0.0, "")
    assert [h.insight_id for h in hits] == ["b", "a"]


async def test_sharing_entities_matches_keys_most_shared_first(graph_store: GraphStore) -> None:
    await graph_store.save_node_links(node("one", entities=("Apple",)), [])
    await graph_store.save_node_links(node("two", entities=("apple", "BERLIN")), [])
    await graph_store.save_node_links(node("none", entities=("Paris",)), [])
    await graph_store.save_node_links(node("bobs", owner=BOB, entities=("Apple",)), [])
    found = await graph_store.sharing_entities(ALICE, ["apple", "berlin"], "me", 10)
    assert [n.insight_id for n in found] == ["two", "one"]
    assert found[0].entities == ("apple", "BERLIN")
    assert await graph_store.sharing_entities(ALICE, ["apple"], "one", 10) != []
    assert [n.insight_id for n in await graph_store.sharing_entities(ALICE, ["apple"], "", 1)] == [
        "one"
    ]


async def test_relationships_among_needs_both_ends(graph_store: GraphStore) -> None:
    for name in "bc":
        await graph_store.save_node_links(node(name), [])
    await graph_store.save_node_links(node("a"), [rel("a", "b"), rel("a", "c")])
    among = await graph_store.relationships_among(ALICE, ["a", "b"])
    assert pairs(among) == {("a", "b", RelationType.SEMANTIC)}
    assert await graph_store.relationships_among(BOB, ["a", "b"]) == []
    assert await graph_store.relationships_touching(ALICE, []) == []


async def test_feedback_totals_and_threshold_per_owner(
    graph_store: GraphStore, reopen_graph_store: ReopenGraphStore
) -> None:
    assert await graph_store.get_threshold(ALICE) is None
    await graph_store.add_feedback(ALICE, True, 0.8)
    await graph_store.add_feedback(BOB, False, 0.1)
    stats = await graph_store.add_feedback(ALICE, False, 0.6)
    assert (stats.positive_count, stats.negative_count) == (1, 1)
    assert (stats.positive_sum, stats.negative_sum) == pytest.approx((0.8, 0.6))
    await graph_store.set_threshold(ALICE, 0.61)
    await graph_store.set_threshold(ALICE, 0.62)
    other = await reopen_graph_store()
    assert await other.get_threshold(ALICE) == pytest.approx(0.62)
    assert await other.get_threshold(BOB) is None
