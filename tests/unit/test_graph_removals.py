"""GraphRemovalOutbox: removals survive an unavailable graph service and are retried."""

from __future__ import annotations

from services.common.errors import Unavailable
from services.insight.domain.graph_removals import GraphRemovalOutbox


class FakeOutboxStore:
    def __init__(self, pending: list[tuple[str, str]]) -> None:
        self.pending = list(pending)

    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        return self.pending[:limit]

    async def forget_graph_removal(self, insight_id: str) -> None:
        self.pending = [p for p in self.pending if p[0] != insight_id]


class FlakyGraph:
    def __init__(self) -> None:
        self.up = False
        self.removed: list[tuple[str, str]] = []

    async def remove(self, insight_id: str, owner_id: str) -> None:
        if not self.up:
            raise Unavailable("graph service: UNAVAILABLE")
        self.removed.append((insight_id, owner_id))


async def test_removals_wait_for_the_graph_and_then_all_go_through() -> None:
    store = FakeOutboxStore([("a", "u1"), ("b", "u2")])
    graph = FlakyGraph()
    outbox = GraphRemovalOutbox(store, graph, interval_seconds=60)  # type: ignore[arg-type]

    assert await outbox.drain() == 0
    assert store.pending == [("a", "u1"), ("b", "u2")]

    graph.up = True
    assert await outbox.drain() == 2
    assert graph.removed == [("a", "u1"), ("b", "u2")]
    assert store.pending == []
