"""The insight service process: AuthService and InsightService over one store.

Run: python -m services.insight.server
"""

from __future__ import annotations

import asyncio

from insighttracker.auth.v1 import auth_pb2, auth_pb2_grpc
from insighttracker.insight.v1 import (
    insight_internal_pb2,
    insight_internal_pb2_grpc,
    insight_pb2,
    insight_pb2_grpc,
)
from services.common import event_loop
from services.common.admission import CallAdmission
from services.common.change_feed import InsightChangeFeed
from services.common.clients import ServiceCredential, async_channel
from services.common.config import Settings
from services.common.interceptors import AccessPolicy, Authenticator
from services.common.logs import configure_logging
from services.common.redis_client import async_redis
from services.common.server import Registration, serve
from services.common.token_state import TokenState
from services.common.tokens import TokenCodec
from services.insight.api import AuthServicer, InsightServicer
from services.insight.domain.accounts import AccountManager
from services.insight.domain.graph_removals import GraphRemovalOutbox
from services.insight.domain.insights import InsightManager
from services.insight.domain.internal_reads import InternalReads
from services.insight.domain.pipeline import PipelineSteps
from services.insight.graph_client import GrpcGraphNodes
from services.insight.internal_api import InsightInternalServicer
from services.insight.login_throttle import LoginThrottle
from services.insight.meaning_search import GrpcMeaningSearch
from services.insight.passwords import Argon2PasswordHasher
from services.insight.pipeline_queue import RqPipelineQueue
from services.insight.store.mongo import MongoInsightStore
from services.insight.store.port import InsightStore
from services.insight.store.sqlite import SqliteInsightStore

AUTH_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
INSIGHT_SERVICE = insight_pb2.DESCRIPTOR.services_by_name["InsightService"].full_name
INTERNAL_SERVICE = insight_internal_pb2.DESCRIPTOR.services_by_name[
    "InsightInternalService"
].full_name

POLICY = AccessPolicy(
    public=frozenset(f"/{AUTH_SERVICE}/{m}" for m in ("Register", "Login", "Refresh")),
    service_only=frozenset({f"/{INTERNAL_SERVICE}/"}),
)


def make_store(settings: Settings) -> InsightStore:
    if settings.mongo_uri:
        return MongoInsightStore(
            settings.mongo_uri,
            settings.mongo_database or None,
            write_concern=settings.mongo_write_concern,
            read_preference=settings.mongo_read_preference,
        )
    return SqliteInsightStore(settings.data_dir / "insight.sqlite3")


async def main() -> None:
    settings = Settings.from_env()
    configure_logging("insight", settings.log_level)
    store = make_store(settings)
    await store.open()
    redis = async_redis(settings.redis_url)
    codec = TokenCodec.from_settings(settings)
    token_state = TokenState.from_settings(redis, settings)
    accounts = AccountManager(
        store, Argon2PasswordHasher(), codec, token_state, LoginThrottle(redis)
    )
    graph_channel = async_channel(settings.graph_address)
    credential = ServiceCredential(codec, "insight")
    outbox = GraphRemovalOutbox(store, GrpcGraphNodes(graph_channel, credential), 5.0)
    outbox_task = asyncio.create_task(outbox.run_forever())
    changes = InsightChangeFeed(redis)
    nlp_channel = async_channel(settings.nlp_address)
    meanings = GrpcMeaningSearch(
        nlp_channel, graph_channel, credential, settings.search_min_similarity
    )
    insights = InsightManager(
        store,
        RqPipelineQueue(settings.redis_url, settings.job_retry_intervals_seconds),
        changes,
        on_delete=outbox.kick,
        meanings=meanings,
    )

    async def close() -> None:
        outbox_task.cancel()
        await graph_channel.close()
        await nlp_channel.close()
        await store.close()
        await redis.aclose()

    await serve(
        name="insight",
        port=settings.insight_port,
        settings=settings,
        registrations=[
            Registration(
                AUTH_SERVICE,
                lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(
                    AuthServicer(accounts), s
                ),
            ),
            Registration(
                INSIGHT_SERVICE,
                lambda s: insight_pb2_grpc.add_InsightServiceServicer_to_server(
                    InsightServicer(insights), s
                ),
            ),
            Registration(
                INTERNAL_SERVICE,
                lambda s: insight_internal_pb2_grpc.add_InsightInternalServiceServicer_to_server(
                    InsightInternalServicer(PipelineSteps(store, changes), InternalReads(store)), s
                ),
            ),
        ],
        authenticator=Authenticator(codec, CallAdmission.from_settings(settings)),
        policy=POLICY,
        on_stop=close,
    )


if __name__ == "__main__":
    event_loop.run(main())
