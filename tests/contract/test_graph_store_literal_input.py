"""The GraphStore contract, continued: values that look like query text are data.

Ids, owners, labels, entities and reasons shaped like Cypher (or SQL) injections are stored and
returned literally and touch nothing else; and the similarity search of one owner is not
crowded out by another owner's closer vectors (the Neo4j adapter's index ranks all owners
together).
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.graph.domain.models import Node, Relationship, RelationType
from services.graph.store.port import GraphStore
from tests.contract.test_graph_store import ALICE, BOB, node, rel, vec

pytest_plugins = ["tests.contract.graph_backends"]

HOSTILE = (
    "x'}) MATCH (n) DETACH DELETE n //",
    'x"}) MATCH (n) DETACH DELETE n //',
    "x`]->() DETACH DELETE n //",
    "$owner_id",
    "') OR 1=1; DROP TABLE nodes; --",
    "{owner_id: 'bob'}",
    "\\u0027 \u0000 \n \u2028 ünïcödé",
)


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_cypher_looking_values_are_stored_literally(
    graph_store: GraphStore, hostile: str
) -> None:
    await graph_store.save_node_links(node("bystander", owner=BOB, embedding=vec(1)), [])
    await graph_store.save_node_links(node("other", entities=("plain",)), [])
    stored = Node(hostile, ALICE, hostile, hostile, vec(1, 0.5), (hostile, "Plain"), (hostile,))
    link = Relationship(
        hostile,
        ALICE,
        hostile,
        "other",
        RelationType.SEMANTIC,
        0.5,
        hostile,
        dt.datetime.now(dt.UTC),
    )
    assert await graph_store.add_node_if_absent(stored)
    assert await graph_store.save_node_links(stored, [link]) == 1

    found = await graph_store.get_node(ALICE, hostile)
    assert found is not None
    assert (found.insight_id, found.label, found.theme) == (hostile, hostile, hostile)
    assert (found.entities, found.keywords) == ((hostile, "Plain"), (hostile,))
    got = await graph_store.get_relationship(ALICE, hostile)
    assert got is not None and (got.source_id, got.reason) == (hostile, hostile)
    sharing = await graph_store.sharing_entities(ALICE, ["plain"], "", 5)
    assert {n.insight_id for n in sharing} == {hostile, "other"}
    assert [h.insight_id for h in await graph_store.nearest(ALICE, vec(1), 5, 0.0, "")] == [hostile]

    # Hostile owners see nothing of anyone else, and the bystander is untouched throughout.
    assert await graph_store.get_node(hostile, "bystander") is None
    assert await graph_store.nearest(hostile, vec(1), 5, -1.0, "") == []
    assert await graph_store.get_relationship(hostile, hostile) is None
    await graph_store.set_threshold(hostile, 0.3)
    assert await graph_store.get_threshold(BOB) is None
    assert await graph_store.delete_relationship(ALICE, hostile, suppress=True)
    assert (await graph_store.suppressed_partners(ALICE, "other"))[RelationType.SEMANTIC] == {
        hostile
    }
    assert await graph_store.delete_node(ALICE, hostile)
    assert await graph_store.get_node(BOB, "bystander") is not None
    assert await graph_store.get_node(ALICE, "other") is not None


async def test_hostile_owner_ids_stay_separate(graph_store: GraphStore) -> None:
    for owner in HOSTILE:
        await graph_store.save_node_links(node("same", owner=owner, embedding=vec(1)), [])
        await graph_store.add_manual_relationship(
            rel("same", "peer", RelationType.MANUAL, 1.0, owner=owner)
        )
    for owner in HOSTILE:
        found = await graph_store.get_node(owner, "same")
        assert found is not None and found.owner_id == owner
        touching = await graph_store.relationships_touching(owner, ["same"])
        assert [r.owner_id for r in touching] == [owner]
    assert await graph_store.delete_node(HOSTILE[0], "same")
    assert all([await graph_store.get_node(owner, "same") for owner in HOSTILE[1:]])


async def test_nearest_is_not_crowded_out_by_other_owners(graph_store: GraphStore) -> None:
    for i in range(100):  # Bob's vectors are all closer to the query than any of Alice's
        await graph_store.save_node_links(node(f"bob{i}", owner=BOB, embedding=vec(1, 0.001)), [])
    await graph_store.save_node_links(node("a", embedding=vec(1, 0.5)), [])
    await graph_store.save_node_links(node("b", embedding=vec(1, 0.8)), [])
    await graph_store.save_node_links(node("c", embedding=vec(0.1, 1)), [])
    hits = await graph_store.nearest(ALICE, vec(1), 2, 0.0, "")
    assert [h.insight_id for h in hits] == ["a", "b"]
    assert await graph_store.nearest(ALICE, vec(1), 5, 0.99, "") == []
