"""The mind map: breadth-first, strongest edges first, within depth and limit."""

from __future__ import annotations

import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import pytest

from services.common.errors import InvalidArgument, NotFound
from services.graph.domain.mindmap import MindMapBuilder, MindMapRequest
from services.graph.domain.models import InsightSummary, Node, Relationship, RelationType
from services.graph.domain.nodes import NodeFinder
from services.graph.store.sqlite import SqliteGraphStore

ME = "me"
LONG = "A rather long thought about graph databases that keeps going well past sixty characters"


class OneInsightDirectory:
    async def find(self, insight_id: str, authorization: str) -> InsightSummary | None:
        if insight_id == "pending" and authorization == "Bearer me":
            return InsightSummary("pending", LONG, "inbox")
        return None


@pytest.fixture()
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SqliteGraphStore]:
    store = SqliteGraphStore(tmp_path / "graph.sqlite3")
    await store.open()
    yield store
    await store.close()


async def graph(store: SqliteGraphStore, edges: list[tuple[str, str, float]]) -> MindMapBuilder:
    """Stores the nodes and SEMANTIC edges given as (source, target, score)."""
    for name in sorted({end for s, t, _ in edges for end in (s, t)}):
        await store.add_node_if_absent(Node(name, ME, LONG if name == "root" else name, "work"))
    for source, target, score in edges:
        rel = Relationship(
            uuid.uuid4().hex,
            ME,
            source,
            target,
            RelationType.SEMANTIC,
            score,
            "why",
            dt.datetime.now(dt.UTC),
        )
        await store.save_node_links(
            (await store.get_nodes(ME, [source]))[0],
            [*await store.relationships_touching(ME, [source]), rel],
        )
    return MindMapBuilder(store, NodeFinder(store, OneInsightDirectory()))


CHAIN = [
    ("root", "a", 0.9),
    ("root", "b", 0.6),
    ("root", "c", 0.8),
    ("a", "a1", 0.7),
    ("b", "b1", 0.95),
    ("a1", "a2", 0.9),
    ("a2", "a3", 0.9),
]


async def test_depth_two_by_default_with_short_labels(store: SqliteGraphStore) -> None:
    builder = await graph(store, CHAIN)
    result = await builder.build(ME, MindMapRequest("root"), "Bearer me")
    assert [(n.insight_id, n.depth) for n in result.nodes] == [
        ("root", 0),
        ("a", 1),
        ("c", 1),
        ("b", 1),
        ("b1", 2),
        ("a1", 2),
    ]
    assert result.root.insight_id == "root"
    assert result.root.label == "A rather long thought about graph databases that keeps…"
    ids = {n.insight_id for n in result.nodes}
    assert all(e.source_id in ids and e.target_id in ids for e in result.edges)
    assert len(result.edges) == 5
    assert [e.score for e in result.edges] == sorted((e.score for e in result.edges), reverse=True)


async def test_depth_and_limit_bound_the_walk(store: SqliteGraphStore) -> None:
    builder = await graph(store, CHAIN)
    deep = await builder.build(ME, MindMapRequest("root", depth=3), "Bearer me")
    assert {n.insight_id: n.depth for n in deep.nodes}["a2"] == 3
    assert "a3" not in {n.insight_id for n in deep.nodes}
    small = await builder.build(ME, MindMapRequest("root", depth=3, limit=3), "Bearer me")
    assert [n.insight_id for n in small.nodes] == ["root", "a", "c"]
    assert {(e.source_id, e.target_id) for e in small.edges} == {("root", "a"), ("root", "c")}
    one = await builder.build(ME, MindMapRequest("a", depth=1), "Bearer me")
    assert [n.insight_id for n in one.nodes] == ["a", "root", "a1"]


async def test_out_of_range_parameters_name_their_fields(store: SqliteGraphStore) -> None:
    builder = await graph(store, CHAIN)
    with pytest.raises(InvalidArgument) as caught:
        await builder.build(ME, MindMapRequest("root", depth=4, limit=201), "Bearer me")
    assert {v.field for v in caught.value.violations} == {"depth", "limit"}
    with pytest.raises(InvalidArgument):
        await builder.build(ME, MindMapRequest("root", depth=-1), "Bearer me")


async def test_unknown_and_pending_roots(store: SqliteGraphStore) -> None:
    builder = await graph(store, CHAIN)
    with pytest.raises(NotFound):
        await builder.build("someone else", MindMapRequest("root"), "Bearer them")
    pending = await builder.build(ME, MindMapRequest("pending"), "Bearer me")
    assert [(n.insight_id, n.theme, n.depth) for n in pending.nodes] == [("pending", "inbox", 0)]
    assert pending.edges == ()
