"""The assistant service process: AssistantService over its own SQLite store, Redis (cache,
change feed, training queue) and the insight, graph and nlp services.

Run: python -m services.assistant.server
(training jobs run in another process: python -m services.assistant.trainer)
"""

from __future__ import annotations

from insighttracker.assistant.v1 import assistant_pb2, assistant_pb2_grpc
from services.assistant.api import AssistantServicer
from services.assistant.cache import FeedChangeVersions, RedisResponseCache
from services.assistant.clients import (
    GrpcInsightDirectory,
    GrpcSimilarityIndex,
    GrpcTextAnalyzer,
)
from services.assistant.domain.feedback import FeedbackRecorder
from services.assistant.domain.stats import StatsReporter
from services.assistant.domain.suggestions import Suggester
from services.assistant.domain.training import TrainingService
from services.assistant.store.sqlite import STORE_FILE, SqliteAssistantStore
from services.assistant.training_queue import RqTrainingQueue
from services.common import event_loop
from services.common.admission import CallAdmission
from services.common.change_feed import InsightChangeFeed
from services.common.clients import ServiceCredential, async_channel
from services.common.config import Settings
from services.common.interceptors import AccessPolicy, Authenticator
from services.common.logs import configure_logging
from services.common.redis_client import async_redis
from services.common.server import Registration, serve
from services.common.theme_models import ThemeModelRegistry
from services.common.tokens import TokenCodec

ASSISTANT_SERVICE = assistant_pb2.DESCRIPTOR.services_by_name["AssistantService"].full_name

POLICY = AccessPolicy()  # every method needs a person's access token


async def main() -> None:
    settings = Settings.from_env()
    configure_logging("assistant", settings.log_level)
    store = SqliteAssistantStore(settings.data_dir / STORE_FILE)
    await store.open()
    redis = async_redis(settings.redis_url)
    codec = TokenCodec.from_settings(settings)
    credential = ServiceCredential(codec, "assistant")
    channels = [
        async_channel(settings.insight_address),
        async_channel(settings.graph_address),
        async_channel(settings.nlp_address),
    ]
    insights = GrpcInsightDirectory(channels[0], credential)
    graph = GrpcSimilarityIndex(channels[1], credential)
    nlp = GrpcTextAnalyzer(channels[2], credential)
    cache = RedisResponseCache(redis)
    versions = FeedChangeVersions(InsightChangeFeed(redis))
    servicer = AssistantServicer(
        Suggester(insights, graph, nlp, store, cache, versions, ThemeModelRegistry(redis)),
        FeedbackRecorder(store, insights),
        TrainingService(store, RqTrainingQueue(settings.redis_url)),
        StatsReporter(insights, graph, cache, versions),
    )

    async def close() -> None:
        for channel in channels:
            await channel.close()
        await store.close()
        await redis.aclose()

    await serve(
        name="assistant",
        port=settings.assistant_port,
        settings=settings,
        registrations=[
            Registration(
                ASSISTANT_SERVICE,
                lambda s: assistant_pb2_grpc.add_AssistantServiceServicer_to_server(servicer, s),
            )
        ],
        # Revocations and per-person limits as on every service: a logged-out token stops here too.
        authenticator=Authenticator(codec, CallAdmission.from_settings(settings)),
        policy=POLICY,
        on_stop=close,
    )


if __name__ == "__main__":
    event_loop.run(main())
