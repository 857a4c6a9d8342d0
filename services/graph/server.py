"""The graph service process: GraphService and GraphInternalService over one GraphStore.

Run: python -m services.graph.server
"""

from __future__ import annotations

from insighttracker.graph.v1 import (
    graph_internal_pb2,
    graph_internal_pb2_grpc,
    graph_pb2,
    graph_pb2_grpc,
)
from services.common import event_loop
from services.common.admission import CallAdmission
from services.common.clients import async_channel
from services.common.config import Settings
from services.common.interceptors import AccessPolicy, Authenticator
from services.common.logs import configure_logging
from services.common.redis_client import async_redis
from services.common.server import Registration, serve
from services.common.tokens import TokenCodec
from services.graph.api import GraphServicer
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.linking import Linker
from services.graph.domain.mindmap import MindMapBuilder
from services.graph.domain.nodes import NodeFinder
from services.graph.domain.owner_queries import OwnerQueries
from services.graph.domain.relationships import RelationshipManager
from services.graph.insight_directory import GrpcInsightDirectory
from services.graph.internal_api import GraphInternalServicer
from services.graph.store.neo4j import Neo4jGraphStore
from services.graph.store.port import GraphStore
from services.graph.store.sqlite import SqliteGraphStore

GRAPH_SERVICE = graph_pb2.DESCRIPTOR.services_by_name["GraphService"].full_name
INTERNAL_SERVICE = graph_internal_pb2.DESCRIPTOR.services_by_name["GraphInternalService"].full_name

POLICY = AccessPolicy(service_only=frozenset({f"/{INTERNAL_SERVICE}/"}))


def make_store(settings: Settings) -> GraphStore:
    if settings.neo4j_uri:
        auth = (settings.neo4j_user, settings.neo4j_password) if settings.neo4j_password else None
        return Neo4jGraphStore(
            settings.neo4j_uri,
            auth=auth,
            database=settings.neo4j_database or None,
            dimensions=settings.embedding_dimensions,
        )
    return SqliteGraphStore(settings.data_dir / "graph.sqlite3")


async def main() -> None:
    settings = Settings.from_env()
    configure_logging("graph", settings.log_level)
    store = make_store(settings)
    await store.open()
    redis = async_redis(settings.redis_url)
    insight_channel = async_channel(settings.insight_address)
    codec = TokenCodec.from_settings(settings)
    feedback = FeedbackLearner(store)
    finder = NodeFinder(store, GrpcInsightDirectory(insight_channel))
    public = GraphServicer(
        RelationshipManager(store, finder, feedback), MindMapBuilder(store, finder)
    )
    internal = GraphInternalServicer(Linker(store, feedback), OwnerQueries(store, feedback))

    async def close() -> None:
        await insight_channel.close()
        await store.close()
        await redis.aclose()

    await serve(
        name="graph",
        port=settings.graph_port,
        settings=settings,
        registrations=[
            Registration(
                GRAPH_SERVICE,
                lambda s: graph_pb2_grpc.add_GraphServiceServicer_to_server(public, s),
            ),
            Registration(
                INTERNAL_SERVICE,
                lambda s: graph_internal_pb2_grpc.add_GraphInternalServiceServicer_to_server(
                    internal, s
                ),
            ),
        ],
        # Revocations and per-person limits as on every service: a logged-out token stops here too.
        authenticator=Authenticator(codec, CallAdmission.from_settings(settings)),
        policy=POLICY,
        on_stop=close,
    )


if __name__ == "__main__":
    event_loop.run(main())
