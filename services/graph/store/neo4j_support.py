"""Small helpers of Neo4jGraphStore: the schema, error translation, statements run for their
effect, and Neo4j's scale of cosine similarity."""

from __future__ import annotations

from typing import Any, LiteralString, ParamSpec, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import ClientError, ServiceUnavailable, SessionExpired, TransientError

from services.common.clock import to_micros, utc_now
from services.common.store_guard import unavailable_on
from services.graph.domain.models import FeedbackStats
from services.graph.store import neo4j_cypher as q

P = ParamSpec("P")
R = TypeVar("R")


async def create_schema(driver: AsyncDriver, database: str | None, dimensions: int) -> int | None:
    """Creates what is missing of the schema, waits until every index is online, and returns the
    vector index's dimension (the one it was first created with, which may not be `dimensions`).
    A schema that is complete costs one query."""

    async def existing() -> dict[str, Any]:
        found = await driver.execute_query(q.EXISTING_SCHEMA, database_=database)
        return {str(r["name"]): (r["options"], r["state"]) for r in found.records}

    names = await existing()
    missing = [statement for name, statement in q.SCHEMA if name not in names]
    populating = any(state != "ONLINE" for _, state in names.values())
    for statement in missing:
        try:
            await driver.execute_query(statement, {"dimensions": dimensions}, database_=database)
        except ClientError as exc:  # another process created the same rule at the same moment
            if "EquivalentSchemaRuleAlreadyExists" not in (exc.code or ""):
                raise
    if missing or populating:
        await driver.execute_query(q.AWAIT_INDEXES, {"seconds": 60}, database_=database)
        names = await existing()
    options = names.get(q.VECTOR_INDEX, ({}, ""))[0] or {}
    configured = (options.get("indexConfig") or {}).get("vector.dimensions")
    return int(configured) if configured is not None else None


# "Neo4j cannot be reached, or kept failing transiently" becomes Unavailable; only "cannot be
# reached" opens the outage breaker (a deadlock retried too long means Neo4j is there).
translate_errors = unavailable_on(
    (ServiceUnavailable, SessionExpired, TransientError),
    "graph store is unavailable",
    store="graph",
    outage=(ServiceUnavailable, SessionExpired),
)


async def execute(tx: AsyncManagedTransaction, query: LiteralString, **params: Any) -> None:
    """Runs one statement of a transaction for its effect."""
    await (await tx.run(query, params)).consume()


def to_unit(cosine: float) -> float:
    """Neo4j's cosine similarity (index scores, vector.similarity.cosine) is (1 + cos) / 2."""
    return (cosine + 1.0) / 2.0


def from_unit(score: float) -> float:
    return 2.0 * score - 1.0


def feedback_stats(totals: dict[bool, tuple[int, float]]) -> FeedbackStats:
    (pos_n, pos_sum), (neg_n, neg_sum) = totals.get(True, (0, 0.0)), totals.get(False, (0, 0.0))
    return FeedbackStats(pos_n, pos_sum, neg_n, neg_sum)


def now_micros() -> int:
    return to_micros(utc_now())
