"""The nlp service process: NlpService (internal; every method needs a service credential).

Run: python -m services.nlp.server

Models load once, in a worker thread, before the server starts listening (so health turns
SERVING only when Analyze can answer). CPU-heavy calls run off the event loop: analysis and
embeddings in a bounded thread pool (torch and spaCy release the GIL for most of their work), and
speech recognition in a child process (PocketSphinx does not release the GIL), so a long voice
note never holds up text analysis, health checks or new calls.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common import event_loop
from services.common.config import Settings
from services.common.interceptors import Access, AccessPolicy, Authenticator
from services.common.logs import configure_logging
from services.common.redis_client import async_redis
from services.common.server import Registration, serve
from services.common.theme_models import ThemeModelRegistry
from services.common.tokens import TokenCodec
from services.nlp.api import NlpServicer
from services.nlp.domain.analyzer import TextAnalyzer
from services.nlp.domain.transcription import TranscriptionService
from services.nlp.store.owner_themes import OwnerThemeModels
from services.nlp.store.redis import RedisCorpusStats

NLP_SERVICE = nlp_pb2.DESCRIPTOR.services_by_name["NlpService"].full_name
POLICY = AccessPolicy(default=Access.SERVICE)

# Two cores on the reference machine: two text workers, one recogniser process.
TEXT_WORKERS = 2
TRANSCRIPTION_WORKERS = 1


async def main() -> None:
    settings = Settings.from_env()
    configure_logging("nlp", settings.log_level)
    # Imported here, not at the top: the transcription child process re-imports this module
    # (multiprocessing "spawn") and must not pay for torch, spaCy and sentence-transformers.
    from services.nlp.engines.loading import load_models

    models = await asyncio.to_thread(load_models, settings)
    text_pool = ThreadPoolExecutor(TEXT_WORKERS, thread_name_prefix="nlp-text")
    # Threads that wait on the recogniser's child process (and decode the WAV meanwhile).
    speech_pool = ThreadPoolExecutor(TRANSCRIPTION_WORKERS, thread_name_prefix="nlp-speech")
    corpus = RedisCorpusStats(async_redis(settings.redis_url))
    owner_themes = OwnerThemeModels(ThemeModelRegistry(async_redis(settings.redis_url)))
    servicer = NlpServicer(
        TextAnalyzer(
            models.parser, models.embedder, models.themes, corpus, text_pool, owner_themes
        ),
        TranscriptionService(models.transcriber, speech_pool),
    )
    # Tokens are verified by signature alone: service credentials are never revoked one by one.
    codec = TokenCodec.from_settings(settings)

    async def close() -> None:
        text_pool.shutdown(wait=False, cancel_futures=True)
        speech_pool.shutdown(wait=False, cancel_futures=True)
        models.transcriber.close()
        await corpus.close()

    await serve(
        name="nlp",
        port=settings.nlp_port,
        settings=settings,
        registrations=[
            Registration(
                NLP_SERVICE, lambda s: nlp_pb2_grpc.add_NlpServiceServicer_to_server(servicer, s)
            )
        ],
        authenticator=Authenticator(codec, None),
        policy=POLICY,
        on_stop=close,
    )


if __name__ == "__main__":
    event_loop.run(main())
