"""Graph benchmark, in-process (no gRPC): SqliteGraphStore + the domain, one user, N insights.

Measures related-insight detection (LinkInsight's similarity step: Linker.related), a full
LinkInsight (detection + durable write), and the depth-2 mind map.
Targets: detection ≤ 50 ms p95 at 100k insights, mind map ≤ 30 ms p95.

Run: python -m bench.graph [--sizes 1000 10000 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import tempfile
import time

import numpy as np

from bench.common import summary
from bench.graph.dataset import CLUSTER_SIZE, OWNER, ClusteredVectors, seed
from bench.threads import threads_as_in_the_services
from services.graph.domain.feedback import FeedbackLearner
from services.graph.domain.linking import InsightFacts, Linker, node_from_facts
from services.graph.domain.mindmap import MindMapBuilder, MindMapRequest
from services.graph.domain.models import InsightSummary
from services.graph.domain.nodes import NodeFinder
from services.graph.store.sqlite import SqliteGraphStore


class NoDirectory:
    async def find(self, insight_id: str, authorization: str) -> InsightSummary | None:
        return None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def run_size(size: int, queries: int, workdir: pathlib.Path) -> None:
    path = workdir / f"graph-{size}.sqlite3"
    store = SqliteGraphStore(path)
    await store.open()  # creates the schema
    await store.close()
    vectors = ClusteredVectors(max(1, size // CLUSTER_SIZE))
    started = time.perf_counter()
    ids = seed(path, size, vectors)
    print(f"\n== {size} insights (seeded in {_ms(started) / 1000:.1f} s)")
    store = SqliteGraphStore(path)
    await store.open()
    linker = Linker(store, FeedbackLearner(store))
    mind_maps = MindMapBuilder(store, NodeFinder(store, NoDirectory()))
    rng = np.random.default_rng(3)
    probes = vectors.sample(rng.integers(0, len(vectors.centroids), size=queries + 50))
    entities = vectors.entities(queries + 50)

    def facts(i: int, insight_id: str) -> InsightFacts:
        return InsightFacts(
            insight_id, OWNER, "probe", "bench", probes[i].tolist(), entities[i], ()
        )

    started = time.perf_counter()
    await linker.related(node_from_facts(facts(0, "warm-up")))
    print(f"first query (loads the owner's embedding matrix): {_ms(started):.0f} ms")

    detect: list[float] = []
    found = 0
    for i in range(queries):
        node = node_from_facts(facts(i, f"probe-{i}"))
        started = time.perf_counter()
        edges = await linker.related(node)
        detect.append(_ms(started))
        found += len(edges)
    print(summary("related detection", detect) + f" (avg {found / queries:.1f} links)")

    link: list[float] = []
    for i in range(50):
        started = time.perf_counter()
        await linker.link(facts(queries + i, f"new-{i}"))
        link.append(_ms(started))
    print(summary("LinkInsight incl. durable write", link))

    maps: list[float] = []
    nodes = 0
    for root in random.Random(5).sample(ids, min(queries, len(ids))):
        started = time.perf_counter()
        result = await mind_maps.build(OWNER, MindMapRequest(root, depth=2), "")
        maps.append(_ms(started))
        nodes += len(result.nodes)
    print(summary("mind map depth 2", maps) + f" (avg {nodes / len(maps):.0f} nodes)")
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    threads_as_in_the_services()
    with tempfile.TemporaryDirectory(prefix="graph-bench-") as workdir:
        for size in args.sizes:
            asyncio.run(run_size(size, args.queries, pathlib.Path(workdir)))


if __name__ == "__main__":
    main()
