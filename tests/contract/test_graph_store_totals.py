"""GraphStore contract, continued: per-owner totals (feedback, relationships by type)."""

from __future__ import annotations

import pytest

from services.graph.domain.models import RelationType
from services.graph.store.port import GraphStore
from tests.contract.test_graph_store import ALICE, BOB, node, rel, vec

pytest_plugins = ["tests.contract.graph_backends"]


async def test_feedback_totals_are_per_owner(graph_store: GraphStore) -> None:
    empty = await graph_store.feedback_stats(ALICE)
    assert (empty.positive_count, empty.negative_count) == (0, 0)

    await graph_store.add_feedback(ALICE, True, 0.8)
    await graph_store.add_feedback(ALICE, True, 0.6)
    await graph_store.add_feedback(ALICE, False, 0.4)
    await graph_store.add_feedback(BOB, False, 0.1)

    totals = await graph_store.feedback_stats(ALICE)
    assert (totals.positive_count, totals.negative_count) == (2, 1)
    assert totals.positive_sum == pytest.approx(1.4)
    assert totals.negative_sum == pytest.approx(0.4)


async def test_relationships_are_counted_by_type_per_owner(graph_store: GraphStore) -> None:
    assert await graph_store.count_relationships(ALICE) == {}
    for insight_id in ("a", "b", "c"):
        await graph_store.save_node_links(node(insight_id, embedding=vec(1.0)), [])
    await graph_store.save_node_links(
        node("a", embedding=vec(1.0)),
        [rel("a", "b"), rel("a", "c", RelationType.SHARED_ENTITY)],
    )
    await graph_store.add_manual_relationship(rel("b", "c", RelationType.MANUAL, 1.0))
    await graph_store.save_node_links(node("z", owner=BOB, embedding=vec(1.0)), [])

    assert await graph_store.count_relationships(ALICE) == {
        RelationType.SEMANTIC: 1,
        RelationType.SHARED_ENTITY: 1,
        RelationType.MANUAL: 1,
    }
    assert await graph_store.count_relationships(BOB) == {}
