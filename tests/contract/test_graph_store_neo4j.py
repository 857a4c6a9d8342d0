"""What only the Neo4j adapter has: its vector index and the ways around it, and write races
that its constraints and locks decide."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import numpy as np
import pytest

from services.common.errors import AlreadyExists
from services.graph.domain.models import RelationType, Vector
from services.graph.store import neo4j as neo4j_store
from services.graph.store.neo4j import Neo4jGraphStore
from tests.contract.graph_backends import NEO4J_TEST_DIMENSIONS, neo4j_graph_backend
from tests.contract.test_graph_store import ALICE, BOB, node, rel, vec

pytestmark = pytest.mark.neo4j


@pytest.fixture()
async def store(tmp_path: pathlib.Path) -> AsyncIterator[Neo4jGraphStore]:
    async with neo4j_graph_backend(tmp_path) as backend:
        opened = backend.new_store()
        assert isinstance(opened, Neo4jGraphStore)
        await opened.open()
        try:
            yield opened
        finally:
            await opened.close()


def wide(*values: float) -> Vector:
    raw = np.zeros(16, dtype=np.float32)
    raw[: len(values)] = values
    result: Vector = (raw / np.linalg.norm(raw)).astype(np.float32)
    return result


async def test_other_dimensions_and_pending_nodes_are_handled(store: Neo4jGraphStore) -> None:
    await store.save_node_links(node("narrow", embedding=vec(1, 0.2)), [])
    await store.save_node_links(node("wide", embedding=wide(1, 0.3)), [])
    await store.save_node_links(node("pending"), [])
    # The index's dimension: answered by the index, which holds only vectors of its dimension.
    assert [h.insight_id for h in await store.nearest(ALICE, vec(1), 5, -1.0, "")] == ["narrow"]
    # Another dimension: an exact scan of the owner's vectors of that dimension.
    hits = await store.nearest(ALICE, wide(1), 5, -1.0, "")
    assert [h.insight_id for h in hits] == ["wide"]
    assert hits[0].score == pytest.approx(float(wide(1) @ wide(1, 0.3)), abs=1e-6)


async def test_a_store_configured_for_another_dimension_uses_the_existing_index(
    store: Neo4jGraphStore,
) -> None:
    other = Neo4jGraphStore(store._uri, dimensions=2 * NEO4J_TEST_DIMENSIONS)
    await other.open()  # the index exists already (IF NOT EXISTS): this neither fails nor drops it
    try:
        await other.save_node_links(node("a", embedding=vec(1, 0.1)), [])
        assert [h.insight_id for h in await other.nearest(ALICE, vec(1), 5, 0.0, "")] == ["a"]
    finally:
        await other.close()


async def test_past_the_candidate_cap_nearest_scans_exactly(
    store: Neo4jGraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neo4j_store, "FIRST_INDEX_CANDIDATES", 2)
    monkeypatch.setattr(neo4j_store, "MAX_INDEX_CANDIDATES", 8)
    for i in range(40):
        await store.save_node_links(node(f"bob{i}", owner=BOB, embedding=vec(1, 0.001)), [])
    await store.save_node_links(node("a", embedding=vec(1, 0.5)), [])
    await store.save_node_links(node("b", embedding=vec(1, 0.8)), [])
    hits = await store.nearest(ALICE, vec(1), 2, 0.0, "a")
    assert [h.insight_id for h in hits] == ["b"]
    assert hits[0].score == pytest.approx(float(vec(1) @ vec(1, 0.8)), abs=1e-6)


@pytest.mark.parametrize("placeholder", [False, True])
async def test_concurrent_adds_of_one_node_add_it_once(
    store: Neo4jGraphStore, placeholder: bool
) -> None:
    if placeholder:  # "a" exists as the end of a relationship, not as a node yet
        await store.add_manual_relationship(rel("b", "a", RelationType.MANUAL, 1.0))
        assert await store.get_node(ALICE, "a") is None
    added = await asyncio.gather(*(store.add_node_if_absent(node("a")) for _ in range(8)))
    assert sorted(added) == [False] * 7 + [True]


async def test_concurrent_manual_links_of_one_pair_link_it_once(store: Neo4jGraphStore) -> None:
    attempts = [
        rel(*ends, kind=RelationType.MANUAL, score=1.0) for ends in [("a", "b"), ("b", "a")] * 4
    ]
    results = await asyncio.gather(
        *(store.add_manual_relationship(r) for r in attempts), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if r is not None)
    assert len(await store.relationships_touching(ALICE, ["a"])) == 1
