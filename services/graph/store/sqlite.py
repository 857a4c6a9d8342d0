"""SqliteGraphStore: the embedded default. One WAL-mode file; similarity search runs on
in-memory per-owner embedding matrices (see vector_index) kept in step with the file."""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import Iterable, Sequence

import aiosqlite

from services.common.clock import to_micros, utc_now
from services.common.errors import AlreadyExists
from services.common.sqlite_db import SqliteDatabase, Transaction, placeholders
from services.graph.domain.models import (
    AUTOMATIC_TYPES,
    FeedbackStats,
    Node,
    Relationship,
    RelationType,
    Similar,
    Vector,
)
from services.graph.domain.reasons import distinct_keys
from services.graph.domain.vectors import from_blob
from services.graph.store.sqlite_rows import (
    NODE_COLUMNS,
    RELATIONSHIP_COLUMNS,
    node_from_row,
    node_row,
    pair,
    relationship_from_row,
    relationship_row,
)
from services.graph.store.sqlite_schema import MIGRATIONS
from services.graph.store.vector_index import VectorIndex

_AUTOMATIC = tuple(t.value for t in AUTOMATIC_TYPES)
_INSERT_AUTOMATIC = (
    f"INSERT OR IGNORE INTO relationships ({RELATIONSHIP_COLUMNS}) "
    f"SELECT {placeholders(10)} WHERE NOT EXISTS (SELECT 1 FROM suppressed_pairs "
    "WHERE owner_id = ? AND pair_lo = ? AND pair_hi = ? AND type = ?)"
)

_INSERT_NODE = f"INTO nodes ({NODE_COLUMNS}, update_us) VALUES ({placeholders(8)})"
_INSERT_NODE_IF_ABSENT = f"INSERT OR IGNORE {_INSERT_NODE}"
_UPSERT_NODE = (
    f"INSERT {_INSERT_NODE} ON CONFLICT (owner_id, insight_id) DO UPDATE SET "
    + ", ".join(
        f"{column} = excluded.{column}"
        for column in ("label", "theme", "embedding", "entities_json", "keywords_json", "update_us")
    )
)


class SqliteGraphStore:
    def __init__(self, path: pathlib.Path, max_cached_owners: int = 64) -> None:
        self._db = SqliteDatabase(path, MIGRATIONS, "graph store")
        self._vectors = VectorIndex(self._load_embeddings, max_cached_owners)

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()
        self._vectors.forget()

    async def _load_embeddings(self, owner_id: str) -> Iterable[tuple[str, Vector]]:
        async with self._db.reader.execute(
            "SELECT insight_id, embedding FROM nodes WHERE owner_id = ? AND embedding IS NOT NULL",
            (owner_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [(row[0], from_blob(bytes(row[1]))) for row in rows]

    # --- nodes ---
    async def get_node(self, owner_id: str, insight_id: str) -> Node | None:
        nodes = await self.get_nodes(owner_id, [insight_id])
        return nodes[0] if nodes else None

    async def get_nodes(self, owner_id: str, insight_ids: Sequence[str]) -> list[Node]:
        if not insight_ids:
            return []
        async with self._db.reader.execute(
            f"SELECT {NODE_COLUMNS} FROM nodes WHERE owner_id = ? "
            f"AND insight_id IN ({placeholders(len(insight_ids))})",
            (owner_id, *insight_ids),
        ) as cur:
            rows = await cur.fetchall()
        return [node_from_row(row) for row in rows]

    async def _write_node(self, tx: Transaction, node: Node, replace: bool) -> bool:
        cur = await tx.db.execute(
            (_UPSERT_NODE if replace else _INSERT_NODE_IF_ABSENT),
            (*node_row(node), to_micros(utc_now())),
        )
        if cur.rowcount == 0:
            return False
        await tx.db.execute(
            "DELETE FROM node_entities WHERE owner_id = ? AND insight_id = ?",
            (node.owner_id, node.insight_id),
        )
        await tx.db.executemany(
            "INSERT INTO node_entities (owner_id, entity_key, insight_id) VALUES (?, ?, ?)",
            [(node.owner_id, key, node.insight_id) for key in distinct_keys(node.entities)],
        )

        async def update_vectors() -> None:
            await self._vectors.upsert(node.owner_id, node.insight_id, node.embedding)

        tx.after_commit(update_vectors)
        return True

    async def add_node_if_absent(self, node: Node) -> bool:
        async with self._db.transaction() as tx:
            return await self._write_node(tx, node, replace=False)

    async def save_node_links(self, node: Node, automatic: Sequence[Relationship]) -> int:
        written = 0
        async with self._db.transaction() as tx:
            await self._write_node(tx, node, replace=True)
            for column in ("source_id", "target_id"):
                await tx.db.execute(
                    f"DELETE FROM relationships WHERE owner_id = ? AND {column} = ? "
                    f"AND type IN ({placeholders(len(_AUTOMATIC))})",
                    (node.owner_id, node.insight_id, *_AUTOMATIC),
                )
            for rel in automatic:
                lo, hi = pair(rel.source_id, rel.target_id)
                cur = await tx.db.execute(
                    _INSERT_AUTOMATIC,
                    (*relationship_row(rel), rel.owner_id, lo, hi, rel.type.value),
                )
                written += cur.rowcount
        return written

    async def delete_node(self, owner_id: str, insight_id: str) -> bool:
        async with self._db.transaction() as tx:
            for column in ("source_id", "target_id"):
                await tx.db.execute(
                    f"DELETE FROM relationships WHERE owner_id = ? AND {column} = ?",
                    (owner_id, insight_id),
                )
            for column in ("pair_lo", "pair_hi"):
                await tx.db.execute(
                    f"DELETE FROM suppressed_pairs WHERE owner_id = ? AND {column} = ?",
                    (owner_id, insight_id),
                )
            await tx.db.execute(
                "DELETE FROM node_entities WHERE owner_id = ? AND insight_id = ?",
                (owner_id, insight_id),
            )
            cur = await tx.db.execute(
                "DELETE FROM nodes WHERE owner_id = ? AND insight_id = ?", (owner_id, insight_id)
            )

            async def update_vectors() -> None:
                await self._vectors.remove(owner_id, insight_id)

            tx.after_commit(update_vectors)
        return cur.rowcount > 0

    # --- search ---
    async def nearest(
        self, owner_id: str, embedding: Vector, limit: int, min_score: float, exclude_id: str
    ) -> list[Similar]:
        return await self._vectors.nearest(owner_id, embedding, limit, min_score, exclude_id)

    async def sharing_entities(
        self, owner_id: str, entity_keys: Sequence[str], exclude_id: str, limit: int
    ) -> list[Node]:
        if not entity_keys:
            return []
        async with self._db.reader.execute(
            # Materialized: the planner must look the keys up, not walk the owner's whole
            # (owner_id, insight_id) index because the GROUP BY matches it.
            "WITH hits AS MATERIALIZED (SELECT insight_id FROM node_entities WHERE owner_id = ? "
            f"AND entity_key IN ({placeholders(len(entity_keys))})) "
            "SELECT insight_id, COUNT(*) AS shared FROM hits WHERE insight_id != ? "
            "GROUP BY insight_id ORDER BY shared DESC, insight_id LIMIT ?",
            (owner_id, *entity_keys, exclude_id, limit),
        ) as cur:
            ranked = [row[0] for row in await cur.fetchall()]
        nodes = {n.insight_id: n for n in await self.get_nodes(owner_id, ranked)}
        return [nodes[i] for i in ranked if i in nodes]

    # --- relationships ---
    async def _relationships(self, where: str, params: Sequence[object]) -> list[Relationship]:
        async with self._db.reader.execute(
            f"SELECT {RELATIONSHIP_COLUMNS} FROM relationships WHERE {where}", params
        ) as cur:
            rows = await cur.fetchall()
        return [relationship_from_row(row) for row in rows]

    async def get_relationship(self, owner_id: str, relationship_id: str) -> Relationship | None:
        found = await self._relationships("owner_id = ? AND id = ?", (owner_id, relationship_id))
        return found[0] if found else None

    async def relationships_touching(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        if not insight_ids:
            return []
        marks = placeholders(len(insight_ids))
        return await self._relationships(
            f"owner_id = ? AND source_id IN ({marks}) UNION SELECT {RELATIONSHIP_COLUMNS} "
            f"FROM relationships WHERE owner_id = ? AND target_id IN ({marks})",
            (owner_id, *insight_ids, owner_id, *insight_ids),
        )

    async def relationships_among(
        self, owner_id: str, insight_ids: Sequence[str]
    ) -> list[Relationship]:
        if not insight_ids:
            return []
        marks = placeholders(len(insight_ids))
        return await self._relationships(
            f"owner_id = ? AND source_id IN ({marks}) AND target_id IN ({marks})",
            (owner_id, *insight_ids, *insight_ids),
        )

    async def add_manual_relationship(self, relationship: Relationship) -> None:
        try:
            async with self._db.transaction() as tx:
                await tx.db.execute(
                    f"INSERT INTO relationships ({RELATIONSHIP_COLUMNS}) "
                    f"VALUES ({placeholders(10)})",
                    relationship_row(relationship),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists("these insights are already linked") from exc

    async def delete_relationship(
        self, owner_id: str, relationship_id: str, *, suppress: bool
    ) -> bool:
        async with self._db.transaction() as tx:
            if suppress:
                await tx.db.execute(
                    "INSERT OR IGNORE INTO suppressed_pairs "
                    "(owner_id, pair_lo, pair_hi, type, create_us) "
                    "SELECT owner_id, pair_lo, pair_hi, type, ? FROM relationships "
                    "WHERE owner_id = ? AND id = ?",
                    (to_micros(utc_now()), owner_id, relationship_id),
                )
            cur = await tx.db.execute(
                "DELETE FROM relationships WHERE owner_id = ? AND id = ?",
                (owner_id, relationship_id),
            )
        return cur.rowcount > 0

    async def suppressed_partners(
        self, owner_id: str, insight_id: str
    ) -> dict[RelationType, set[str]]:
        partners: dict[RelationType, set[str]] = {t: set() for t in RelationType}
        async with self._db.reader.execute(
            "SELECT pair_lo, pair_hi, type FROM suppressed_pairs WHERE owner_id = ? AND "
            "pair_lo = ? UNION SELECT pair_lo, pair_hi, type FROM suppressed_pairs "
            "WHERE owner_id = ? AND pair_hi = ?",
            (owner_id, insight_id, owner_id, insight_id),
        ) as cur:
            for lo, hi, kind in await cur.fetchall():
                partners[RelationType(kind)].add(hi if lo == insight_id else lo)
        return partners

    # --- feedback ---
    async def add_feedback(self, owner_id: str, positive: bool, similarity: float) -> FeedbackStats:
        async with self._db.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO feedback (owner_id, positive, similarity, create_us) "
                "VALUES (?, ?, ?, ?)",
                (owner_id, int(positive), similarity, to_micros(utc_now())),
            )
            return await _feedback_totals(tx.db, owner_id)

    async def feedback_stats(self, owner_id: str) -> FeedbackStats:
        return await _feedback_totals(self._db.reader, owner_id)

    async def count_relationships(self, owner_id: str) -> dict[RelationType, int]:
        async with self._db.reader.execute(
            "SELECT type, COUNT(*) FROM relationships WHERE owner_id = ? GROUP BY type",
            (owner_id,),
        ) as cur:
            return {RelationType(row[0]): int(row[1]) for row in await cur.fetchall()}

    async def get_threshold(self, owner_id: str) -> float | None:
        async with self._db.reader.execute(
            "SELECT threshold FROM owner_settings WHERE owner_id = ?", (owner_id,)
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row else None

    async def set_threshold(self, owner_id: str, threshold: float) -> None:
        async with self._db.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO owner_settings (owner_id, threshold) VALUES (?, ?) "
                "ON CONFLICT (owner_id) DO UPDATE SET threshold = excluded.threshold",
                (owner_id, threshold),
            )


async def _feedback_totals(db: aiosqlite.Connection, owner_id: str) -> FeedbackStats:
    async with db.execute(
        "SELECT positive, COUNT(*), TOTAL(similarity) FROM feedback WHERE owner_id = ? "
        "GROUP BY positive",
        (owner_id,),
    ) as cur:
        totals = {bool(row[0]): (int(row[1]), float(row[2])) for row in await cur.fetchall()}
    (pos_n, pos_sum), (neg_n, neg_sum) = totals.get(True, (0, 0.0)), totals.get(False, (0, 0.0))
    return FeedbackStats(pos_n, pos_sum, neg_n, neg_sum)
