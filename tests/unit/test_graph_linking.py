"""Linking, suppression, manual links and threshold learning, over the embedded store."""

from __future__ import annotations

import math
import pathlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from services.common.errors import AlreadyExists, InvalidArgument, NotFound
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.linking import MAX_SEMANTIC_LINKS, InsightFacts, Linker
from services.graph.domain.models import InsightSummary, RelationType
from services.graph.domain.nodes import NodeFinder
from services.graph.domain.relationships import RelationshipManager
from services.graph.store.sqlite import SqliteGraphStore

ME, THEM, TOKEN = "me", "them", "Bearer me"


class FakeDirectory:
    def __init__(self) -> None:
        self.insights: dict[str, tuple[str, InsightSummary]] = {}

    def add(self, owner: str, insight_id: str, text: str = "pending text") -> None:
        self.insights[insight_id] = (owner, InsightSummary(insight_id, text, "inbox"))

    async def find(self, insight_id: str, authorization: str) -> InsightSummary | None:
        found = self.insights.get(insight_id)
        return found[1] if found and authorization == f"Bearer {found[0]}" else None


@dataclass
class World:
    store: SqliteGraphStore
    directory: FakeDirectory
    linker: Linker
    relationships: RelationshipManager
    feedback: FeedbackLearner

    async def link(
        self,
        insight_id: str,
        angle: float | None = None,
        entities: tuple[str, ...] = (),
        keywords: tuple[str, ...] = (),
        owner: str = ME,
    ) -> int:
        """Embeds at `angle` degrees in a plane: cos(a - b) is the similarity of two insights."""
        self.directory.add(owner, insight_id, f"text of {insight_id}")
        embedding = (
            []
            if angle is None
            else [math.cos(math.radians(angle)), math.sin(math.radians(angle)), 0.0]
        )
        return await self.linker.link(
            InsightFacts(
                insight_id, owner, f"label {insight_id}", "work", embedding, entities, keywords
            )
        )

    async def edges(self, insight_id: str) -> dict[str, tuple[RelationType, str]]:
        found = await self.relationships.list(ME, insight_id, TOKEN)
        return {r.other_end(insight_id): (r.type, r.reason) for r in found}


@pytest.fixture()
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    store = SqliteGraphStore(tmp_path / "graph.sqlite3")
    await store.open()
    directory = FakeDirectory()
    feedback = FeedbackLearner(store)
    finder = NodeFinder(store, directory)
    yield World(
        store,
        directory,
        Linker(store, feedback),
        RelationshipManager(store, finder, feedback),
        feedback,
    )
    await store.close()


async def test_similar_insights_are_linked_with_reasons(world: World) -> None:
    await world.link("a", 0, keywords=("graph databases", "notes"))
    await world.link("far", 100)  # cos 70° = 0.34 from b
    assert await world.link("b", 30, keywords=("Graph Databases",)) == 1  # cos 30° = 0.87
    edges = await world.edges("b")
    assert edges == {
        "a": (RelationType.SEMANTIC, "similar meaning (0.87); shared keywords: Graph Databases")
    }


async def test_shared_entities_are_linked_case_insensitively(world: World) -> None:
    await world.link("a", entities=("Apple", "Berlin"))
    await world.link("b", entities=("apple", "berlin", "Paris", "Rome"))
    found = await world.relationships.list(ME, "b", TOKEN)
    assert [(r.type, r.reason) for r in found] == [
        (RelationType.SHARED_ENTITY, "shared entities: apple, berlin")
    ]
    assert found[0].score == pytest.approx(2 / math.sqrt(8))


async def test_semantic_links_are_capped_strongest_first(world: World) -> None:
    for i in range(MAX_SEMANTIC_LINKS + 5):
        await world.link(f"n{i:02}", i)
    assert await world.link("probe", -1) == MAX_SEMANTIC_LINKS
    found = await world.relationships.list(ME, "probe", TOKEN)
    assert [r.target_id for r in found] == [f"n{i:02}" for i in range(MAX_SEMANTIC_LINKS)]


async def test_other_owners_insights_are_never_linked(world: World) -> None:
    await world.link("theirs", 0, entities=("Apple",), owner=THEM)
    assert await world.link("mine", 0, entities=("Apple",)) == 0


async def test_relinking_replaces_automatic_links_and_keeps_manual_ones(world: World) -> None:
    await world.link("a", 0)
    await world.link("b", 10)
    await world.link("c", 170)
    await world.relationships.create(ME, "a", "c", "opposites attract", TOKEN)
    await world.link("a", 160)  # edited: now close to c, far from b
    found = await world.relationships.list(ME, "a", TOKEN)
    assert {(r.other_end("a"), r.type) for r in found} == {
        ("c", RelationType.MANUAL),
        ("c", RelationType.SEMANTIC),
    }
    assert await world.edges("b") == {}


async def test_a_deleted_automatic_link_is_never_recreated(world: World) -> None:
    await world.link("a", 0)
    await world.link("b", 20)
    (automatic,) = await world.relationships.list(ME, "b", TOKEN)
    await world.relationships.delete(ME, automatic.id)
    assert await world.link("b", 21) == 0
    assert await world.link("a", 1) == 0
    assert await world.edges("a") == {}


async def test_feedback_moves_the_threshold(world: World) -> None:
    for i, angle in enumerate((0, 50, 100, 150, 200, 250)):
        await world.link(f"n{i}", angle)  # neighbours 50° apart: cos 0.64, above 0.4
    assert await world.feedback.threshold(ME) == 0.4
    for i in range(3):
        (link, *_) = await world.relationships.list(ME, f"n{i}", TOKEN)
        await world.relationships.delete(ME, link.id)
    raised = await world.feedback.threshold(ME)
    assert raised == pytest.approx((0.6 + (0.6 + 3 * math.cos(math.radians(50))) / 6) / 2)
    await world.link("x", 300)
    await world.link("y", 2)  # cos 62° = 0.47 from x: linked at 0.4, not at 0.51
    assert "x" not in await world.edges("y")
    await world.relationships.create(ME, "x", "n1", "", TOKEN)  # cos 110°: a weak positive
    assert await world.feedback.threshold(ME) < raised


async def test_manual_links_are_checked(world: World) -> None:
    await world.link("a", 0)
    await world.link("b", 90)
    world.directory.add(THEM, "theirs")
    world.directory.add(ME, "pending", "A thought still waiting for the pipeline")
    created = await world.relationships.create(ME, "a", "pending", "  same  project ", TOKEN)
    assert (created.type, created.score, created.reason) == (
        RelationType.MANUAL,
        1.0,
        "same project",
    )
    node = await world.store.get_node(ME, "pending")
    assert node is not None and node.label == "A thought still waiting for the pipeline"
    with pytest.raises(AlreadyExists):
        await world.relationships.create(ME, "pending", "a", "", TOKEN)
    with pytest.raises(NotFound):
        await world.relationships.create(ME, "a", "theirs", "", TOKEN)
    with pytest.raises(InvalidArgument) as caught:
        await world.relationships.create(ME, "a", "a", "x" * 501, TOKEN)
    assert {v.field for v in caught.value.violations} == {"target_id", "reason"}


async def test_relationships_are_private_to_their_owner(world: World) -> None:
    await world.link("a", 0)
    await world.link("b", 5)
    (link,) = await world.relationships.list(ME, "a", TOKEN)
    with pytest.raises(NotFound) as other:
        await world.relationships.list(THEM, "a", "Bearer them")
    with pytest.raises(NotFound) as missing:
        await world.relationships.list(ME, "nope", TOKEN)
    assert other.value.message == missing.value.message
    with pytest.raises(NotFound):
        await world.relationships.delete(THEM, link.id)
    world.directory.add(ME, "pending")
    assert await world.relationships.list(ME, "pending", TOKEN) == []


async def test_remove_cascades_and_is_idempotent(world: World) -> None:
    await world.link("a", 0)
    await world.link("b", 5)
    await world.linker.remove(ME, "a")
    await world.linker.remove(ME, "a")
    assert await world.edges("b") == {}
    with pytest.raises(InvalidArgument):
        await world.linker.remove("", "a")
