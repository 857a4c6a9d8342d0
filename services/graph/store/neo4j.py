"""Neo4jGraphStore: the scale-out adapter, over the official async Neo4j driver (Neo4j 5).

The graph it keeps and every query text are in neo4j_cypher; values always travel as
parameters. Multi-statement writes run in one managed transaction (retried by the driver on
transient errors, so each unit of work is idempotent).

Similarity (`nearest`): one Neo4j VECTOR index (cosine) over every owner's `:Insight.embedding`,
of the dimension the store is configured with. The index cannot be filtered by owner in Neo4j 5,
so a query over-fetches: it asks for the `k` nearest of all owners, keeps the owner's, and asks
again with 4k while it has fewer than `limit` hits, the index had more to give and the farthest
hit could still reach `min_score`; past MAX_INDEX_CANDIDATES it runs an exact scan of the owner's
nodes instead (as it does when the query's dimension is not the index's, e.g. after a model
change, or when the index was created with another dimension). Scores are always the exact cosine
of the stored vectors, so thresholds mean the same as in SqliteGraphStore. Nodes without an
embedding (pending) or with another dimension are simply not in the index.

`sharing_entities` filters the owner's nodes (by the owner index) on their `entity_keys` list:
Neo4j 5 indexes no list membership, so it costs one pass over the owner's nodes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, LiteralString, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, RoutingControl
from neo4j.exceptions import ConstraintError

from services.common.errors import AlreadyExists, Unavailable
from services.graph.domain.models import (
    FeedbackStats,
    Node,
    Relationship,
    RelationType,
    Similar,
    Vector,
)
from services.graph.store import neo4j_cypher as q
from services.graph.store.neo4j_records import (
    link_params,
    node_from_map,
    node_params,
    pair,
    relationship_from_map,
)
from services.graph.store.neo4j_support import (
    create_schema,
    execute,
    feedback_stats,
    from_unit,
    now_micros,
    to_unit,
    translate_errors,
)

R = TypeVar("R")

DEFAULT_DIMENSIONS: Final = 384  # all-MiniLM-L6-v2
FIRST_INDEX_CANDIDATES: Final = 64
MAX_INDEX_CANDIDATES: Final = 16_384
_SCORE_SLACK: Final = 1e-4  # the index's float32 scores vs the exact ones
# How long the driver retries a transaction on transient errors (deadlocks, a connection lost):
# enough for a few attempts at its backoff; with Neo4j down, a caller hears 503 after this
# instead of waiting out the driver's default (the fault tests took ~14 s with 10 s here).
MAX_RETRY_SECONDS: Final = 3.0


class Neo4jGraphStore:
    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        dimensions: int = DEFAULT_DIMENSIONS,
        connection_timeout: float = 5.0,
    ) -> None:
        if not 1 <= dimensions <= 4096:
            raise ValueError(f"vector dimensions must be in 1..4096, not {dimensions}")
        self._uri = uri
        self._auth = auth
        self._database = database
        self._dimensions = dimensions
        self._connection_timeout = connection_timeout
        self._driver_: AsyncDriver | None = None
        self._index_dimensions: int | None = None

    @property
    def _driver(self) -> AsyncDriver:
        if self._driver_ is None:
            raise Unavailable("graph store is not open")
        return self._driver_

    @translate_errors
    async def open(self) -> None:
        driver = AsyncGraphDatabase.driver(
            self._uri,
            auth=self._auth,
            connection_timeout=self._connection_timeout,
            max_transaction_retry_time=MAX_RETRY_SECONDS,
        )
        try:
            await driver.verify_connectivity()
            self._index_dimensions = await create_schema(driver, self._database, self._dimensions)
        except BaseException:
            await driver.close()
            raise
        self._driver_ = driver

    async def close(self) -> None:
        if self._driver_ is not None:
            await self._driver_.close()
            self._driver_ = None

    async def _read(self, query: LiteralString, **params: Any) -> list[neo4j.Record]:
        result = await self._driver.execute_query(
            query, params, database_=self._database, routing_=RoutingControl.READ
        )
        return list(result.records)

    async def _write(self, work: Callable[[AsyncManagedTransaction], Awaitable[R]]) -> R:
        async with self._driver.session(database=self._database) as session:
            return await session.execute_write(work)

    # --- nodes ---
    async def get_node(self, owner_id: str, insight_id: str) -> Node | None:
        nodes = await self.get_nodes(owner_id, [insight_id])
        return nodes[0] if nodes else None

    @translate_errors
    async def get_nodes(self, owner_id: str, insight_ids: Sequence[str]) -> list[Node]:
        if not insight_ids:
            return []
        records = await self._read(q.GET_NODES, owner_id=owner_id, insight_ids=list(insight_ids))
        return [node_from_map(r["node"]) for r in records]

    @translate_errors
    async def add_node_if_absent(self, node: Node) -> bool:
        async def work(tx: AsyncManagedTransaction) -> bool:
            result = await tx.run(q.ADD_NODE_IF_ABSENT, node_params(node), now=now_micros())
            record = await result.single(strict=True)
            return bool(record["added"])

        return await self._write(work)

    @translate_errors
    async def save_node_links(self, node: Node, automatic: Sequence[Relationship]) -> int:
        by_type: dict[RelationType, list[dict[str, Any]]] = {}
        seen: set[tuple[RelationType, str, str]] = set()
        for rel in automatic:  # the first of duplicates wins, as INSERT OR IGNORE does
            key = (rel.type, *pair(rel.source_id, rel.target_id))
            if key not in seen:
                seen.add(key)
                by_type.setdefault(rel.type, []).append(link_params(rel))

        async def work(tx: AsyncManagedTransaction) -> int:
            await execute(tx, q.UPSERT_NODE, **node_params(node), now=now_micros())
            await execute(
                tx, q.DELETE_AUTOMATIC_OF_NODE, owner_id=node.owner_id, insight_id=node.insight_id
            )
            written = 0
            for kind, links in by_type.items():
                result = await tx.run(q.CREATE_AUTOMATIC[kind], links=links, type=kind.value)
                written += int((await result.single(strict=True))["created"])
            return written

        return await self._write(work)

    @translate_errors
    async def delete_node(self, owner_id: str, insight_id: str) -> bool:
        async def work(tx: AsyncManagedTransaction) -> bool:
            for statement in q.DELETE_SUPPRESSED_OF_NODE:
                await execute(tx, statement, owner_id=owner_id, insight_id=insight_id)
            result = await tx.run(q.DELETE_NODE, owner_id=owner_id, insight_id=insight_id)
            record = await result.single()
            return record is not None and bool(record["stored"])

        return await self._write(work)

    # --- search ---
    @translate_errors
    async def nearest(
        self, owner_id: str, embedding: Vector, limit: int, min_score: float, exclude_id: str
    ) -> list[Similar]:
        if limit <= 0:
            return []
        query = [float(x) for x in embedding.tolist()]
        floor = to_unit(min_score)
        if self._index_dimensions == len(query):
            k = max(FIRST_INDEX_CANDIDATES, 4 * limit)
            while k <= MAX_INDEX_CANDIDATES:
                records = await self._read(
                    q.NEAREST_INDEXED,
                    k=k,
                    embedding=query,
                    owner_id=owner_id,
                    exclude_id=exclude_id,
                )
                fetched, lowest, hits = (
                    records[0]["fetched"],
                    records[0]["lowest"],
                    records[0]["hits"],
                )
                found = [(str(h["insight_id"]), float(h["score"])) for h in hits]
                found = [(i, s) for i, s in found if s >= floor]
                exhausted = fetched < k or lowest is None or float(lowest) < floor - _SCORE_SLACK
                if len(found) >= limit or exhausted:
                    found.sort(key=lambda hit: (-hit[1], hit[0]))
                    return [Similar(i, from_unit(s)) for i, s in found[:limit]]
                k *= 4
        records = await self._read(
            q.NEAREST_SCAN,
            owner_id=owner_id,
            exclude_id=exclude_id,
            embedding=query,
            min_score=floor,
            limit=limit,
        )
        return [Similar(str(r["insight_id"]), from_unit(float(r["score"]))) for r in records]

    @translate_errors
    async def sharing_entities(
        self, owner_id: str, entity_keys: Sequence[str], exclude_id: str, limit: int
    ) -> list[Node]:
        if not entity_keys or limit <= 0:
            return []
        records = await self._read(
            q.SHARING_ENTITIES,
            owner_id=owner_id,
            keys=list(dict.fromkeys(entity_keys)),
            exclude_id=exclude_id,
            limit=limit,
        )
        return [node_from_map(r["node"]) for r in records]

    # --- relationships ---
    @translate_errors
    async def get_relationship(self, owner_id: str, relationship_id: str) -> Relationship | None:
        records = await self._read(q.GET_LINK, owner_id=owner_id, id=relationship_id)
        return relationship_from_map(records[0]["rel"]) if records else None

    @translate_errors
    async def relationships_touching(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        if not insight_ids:
            return []
        records = await self._read(
            q.LINKS_TOUCHING, owner_id=owner_id, insight_ids=list(insight_ids)
        )
        return [relationship_from_map(r["rel"]) for r in records]

    @translate_errors
    async def relationships_among(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        if not insight_ids:
            return []
        records = await self._read(q.LINKS_AMONG, owner_id=owner_id, insight_ids=list(insight_ids))
        return [relationship_from_map(r["rel"]) for r in records]

    @translate_errors
    async def add_manual_relationship(self, relationship: Relationship) -> None:
        async def work(tx: AsyncManagedTransaction) -> int:
            result = await tx.run(
                q.CREATE_MANUAL[relationship.type], link=link_params(relationship)
            )
            return int((await result.single(strict=True))["created"])

        try:
            created = await self._write(work)
        except ConstraintError as exc:  # a concurrent link of the same pair, or a reused id
            raise AlreadyExists("these insights are already linked") from exc
        if not created:
            raise AlreadyExists("these insights are already linked")

    @translate_errors
    async def delete_relationship(
        self, owner_id: str, relationship_id: str, *, suppress: bool
    ) -> bool:
        async def work(tx: AsyncManagedTransaction) -> bool:
            result = await tx.run(q.GET_LINK, owner_id=owner_id, id=relationship_id)
            record = await result.single()
            if record is None:
                return False
            found = relationship_from_map(record["rel"])
            if suppress:
                await execute(
                    tx,
                    q.SUPPRESS_PAIR,
                    owner_id=owner_id,
                    pair_lo=record["pair_lo"],
                    pair_hi=record["pair_hi"],
                    type=found.type.value,
                    now=now_micros(),
                )
            await execute(tx, q.DELETE_LINK[found.type], owner_id=owner_id, id=relationship_id)
            return True

        return await self._write(work)

    @translate_errors
    async def suppressed_partners(
        self, owner_id: str, insight_id: str
    ) -> dict[RelationType, set[str]]:
        partners: dict[RelationType, set[str]] = {t: set() for t in RelationType}
        for record in await self._read(
            q.SUPPRESSED_OF_NODE, owner_id=owner_id, insight_id=insight_id
        ):
            partners[RelationType(record["type"])].add(str(record["partner"]))
        return partners

    # --- feedback ---
    @translate_errors
    async def add_feedback(self, owner_id: str, positive: bool, similarity: float) -> FeedbackStats:
        async def work(tx: AsyncManagedTransaction) -> dict[bool, tuple[int, float]]:
            await execute(
                tx,
                q.ADD_FEEDBACK,
                owner_id=owner_id,
                positive=positive,
                similarity=float(similarity),
                now=now_micros(),
            )
            result = await tx.run(q.FEEDBACK_TOTALS, owner_id=owner_id)
            return {bool(r["positive"]): (int(r["count"]), float(r["total"])) async for r in result}

        return feedback_stats(await self._write(work))

    @translate_errors
    async def feedback_stats(self, owner_id: str) -> FeedbackStats:
        records = await self._read(q.FEEDBACK_TOTALS, owner_id=owner_id)
        return feedback_stats(
            {bool(r["positive"]): (int(r["count"]), float(r["total"])) for r in records}
        )

    @translate_errors
    async def count_relationships(self, owner_id: str) -> dict[RelationType, int]:
        records = await self._read(q.COUNT_LINKS, owner_id=owner_id)
        return {q.TYPE_OF_LINK[str(r["type"])]: int(r["count"]) for r in records}

    @translate_errors
    async def get_threshold(self, owner_id: str) -> float | None:
        records = await self._read(q.GET_THRESHOLD, owner_id=owner_id)
        return float(records[0]["threshold"]) if records else None

    @translate_errors
    async def set_threshold(self, owner_id: str, threshold: float) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            await execute(tx, q.SET_THRESHOLD, owner_id=owner_id, threshold=float(threshold))

        await self._write(work)
