"""The trainer's long-lived async side: one event loop in a thread that owns the store, the
Redis client and the gRPC channels, so RQ's synchronous job functions can run coroutines on it
(channels and connections stay open between jobs)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import redis.asyncio as aioredis

from services.assistant.clients import (
    GrpcInsightDirectory,
    GrpcSimilarityIndex,
    GrpcTextAnalyzer,
)
from services.assistant.domain.retraining import RetrainPlanner
from services.assistant.domain.trainer import ThemeTrainer
from services.assistant.domain.training import TrainingService
from services.assistant.store.sqlite import STORE_FILE, SqliteAssistantStore
from services.assistant.training_queue import RqTrainingQueue
from services.common.clients import ServiceCredential, async_channel
from services.common.config import Settings
from services.common.redis_client import async_redis
from services.common.request_context import request_id_var
from services.common.theme_models import ThemeModelRegistry
from services.common.tokens import TokenCodec

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="trainer-loop")
        self._thread.daemon = True
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], request_id: str = "") -> T:
        async def scoped() -> T:
            request_id_var.set(request_id)
            return await coroutine

        return asyncio.run_coroutine_threadsafe(scoped(), self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@dataclass
class TrainerRuntime:
    loop: LoopThread
    settings: Settings
    store: SqliteAssistantStore
    redis: aioredis.Redis
    trainer: ThemeTrainer
    planner: RetrainPlanner
    channels: list[grpc.aio.Channel]

    def run(self, coroutine: Coroutine[Any, Any, T], request_id: str = "") -> T:
        return self.loop.run(coroutine, request_id)

    def close(self) -> None:
        async def close_all() -> None:
            closing: list[Awaitable[Any]] = [c.close() for c in self.channels]
            await asyncio.gather(*closing, self.store.close(), self.redis.aclose())

        self.loop.run(close_all())
        self.loop.stop()


async def _build(loop: LoopThread, settings: Settings) -> TrainerRuntime:
    store = SqliteAssistantStore(settings.data_dir / STORE_FILE)
    await store.open()
    redis = async_redis(settings.redis_url)
    credential = ServiceCredential(TokenCodec.from_settings(settings), "assistant-trainer")
    channels = [
        async_channel(settings.insight_address),
        async_channel(settings.graph_address),
        async_channel(settings.nlp_address),
    ]
    insights = GrpcInsightDirectory(channels[0], credential)
    graph = GrpcSimilarityIndex(channels[1], credential)
    nlp = GrpcTextAnalyzer(channels[2], credential)
    trainer = ThemeTrainer(store, insights, nlp, graph, ThemeModelRegistry(redis))
    training = TrainingService(store, RqTrainingQueue(settings.redis_url))
    planner = RetrainPlanner(store, insights, training)
    return TrainerRuntime(loop, settings, store, redis, trainer, planner, channels)


def build_runtime(settings: Settings) -> TrainerRuntime:
    loop = LoopThread()
    return loop.run(_build(loop, settings))
