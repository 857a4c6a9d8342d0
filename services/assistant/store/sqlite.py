"""SqliteAssistantStore: issued suggestions, feedback and training jobs in one SQLite file.

Rejections are final: once a person rejects a suggestion (or an insight), it stays out of their
suggestions even if they accept it later elsewhere.
"""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import Sequence

from services.assistant.domain.models import (
    INSIGHT_FEEDBACK,
    Feedback,
    JobStatus,
    LinkScorerReport,
    Rejections,
    Suggestion,
    SuggestionKind,
    TrainingJob,
)
from services.assistant.store.sqlite_schema import MIGRATIONS
from services.common.clock import from_micros, to_micros, utc_now
from services.common.sqlite_db import SqliteDatabase, placeholders

STORE_FILE = "assistant.sqlite3"  # under the data directory
_UNFINISHED = ("QUEUED", "RUNNING")
_JOB_COLUMNS = (
    "id, owner_id, status, examples_used, accuracy_before, accuracy_after, promoted, "
    "model_version, error, link_threshold, link_positive_examples, link_negative_examples, "
    "examples_digest, create_time, finish_time"
)


def _job(row: sqlite3.Row) -> TrainingJob:
    return TrainingJob(
        id=row["id"],
        owner_id=row["owner_id"],
        status=JobStatus(row["status"]),
        create_time=from_micros(row["create_time"]),
        examples_used=row["examples_used"],
        accuracy_before=row["accuracy_before"],
        accuracy_after=row["accuracy_after"],
        promoted=bool(row["promoted"]),
        model_version=row["model_version"],
        error=row["error"],
        finish_time=from_micros(row["finish_time"]) if row["finish_time"] is not None else None,
        link_scorer=LinkScorerReport(
            row["link_threshold"], row["link_positive_examples"], row["link_negative_examples"]
        ),
        examples_digest=row["examples_digest"],
    )


def _job_values(job: TrainingJob) -> tuple[object, ...]:
    return (
        job.id,
        job.owner_id,
        job.status.value,
        job.examples_used,
        job.accuracy_before,
        job.accuracy_after,
        int(job.promoted),
        job.model_version,
        job.error,
        job.link_scorer.threshold,
        job.link_scorer.positive_examples,
        job.link_scorer.negative_examples,
        job.examples_digest,
        to_micros(job.create_time),
        to_micros(job.finish_time) if job.finish_time else None,
    )


class SqliteAssistantStore:
    def __init__(self, path: pathlib.Path) -> None:
        self._db = SqliteDatabase(path, MIGRATIONS, "assistant store")

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def optimize(self) -> None:
        async with self._db.transaction() as tx:
            await tx.db.execute("PRAGMA optimize")

    # -- suggestions and feedback --------------------------------------------------------------

    async def remember(self, owner_id: str, suggestions: Sequence[Suggestion]) -> None:
        if not suggestions:
            return
        ids = [s.id for s in suggestions]
        sql = f"SELECT id FROM suggestions WHERE owner_id = ? AND id IN ({placeholders(len(ids))})"
        async with self._db.reader.execute(sql, (owner_id, *ids)) as cursor:
            known = {row["id"] for row in await cursor.fetchall()}
        new = [s for s in suggestions if s.id not in known]
        if not new:
            return
        now = to_micros(utc_now())
        async with self._db.transaction() as tx:
            await tx.db.executemany(
                "INSERT OR IGNORE INTO suggestions VALUES (?, ?, ?, ?, ?)",
                [(owner_id, s.id, s.kind.value, s.target, now) for s in new],
            )

    async def issued(self, owner_id: str, suggestion_id: str) -> Suggestion | None:
        async with self._db.reader.execute(
            "SELECT id, kind, target FROM suggestions WHERE owner_id = ? AND id = ?",
            (owner_id, suggestion_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return Suggestion(row["id"], SuggestionKind(row["kind"]), row["target"], 0.0, "")

    async def add_feedback(self, owner_id: str, feedback: Feedback) -> None:
        async with self._db.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO feedback (owner_id, suggestion_id, kind, target, accepted, "
                "create_time) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    owner_id,
                    feedback.suggestion_id,
                    feedback.kind,
                    feedback.target,
                    int(feedback.accepted),
                    to_micros(feedback.create_time),
                ),
            )

    async def rejections(self, owner_id: str) -> Rejections:
        async with self._db.reader.execute(
            "SELECT suggestion_id, kind, target FROM feedback WHERE owner_id = ? AND accepted = 0",
            (owner_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        insight_kinds = {INSIGHT_FEEDBACK, *(k.value for k in SuggestionKind if k.about_insight)}
        return Rejections(
            suggestion_ids=frozenset(r["suggestion_id"] for r in rows if r["suggestion_id"]),
            insight_ids=frozenset(r["target"] for r in rows if r["kind"] in insight_kinds),
        )

    async def rejections_version(self, owner_id: str) -> int:
        async with self._db.reader.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM feedback WHERE owner_id = ? AND accepted = 0",
            (owner_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def feedback_since(self, owner_id: str, micros: int) -> int:
        async with self._db.reader.execute(
            "SELECT COUNT(*) FROM feedback WHERE owner_id = ? AND create_time >= ?",
            (owner_id, micros),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def known_owners(self) -> list[str]:
        async with self._db.reader.execute(
            "SELECT owner_id FROM feedback UNION SELECT owner_id FROM training_jobs"
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    # -- training jobs ---------------------------------------------------------------------------

    async def create_job(self, job: TrainingJob) -> None:
        async with self._db.transaction() as tx:
            await tx.db.execute(
                f"INSERT INTO training_jobs ({_JOB_COLUMNS}) VALUES ({placeholders(15)})",
                _job_values(job),
            )

    async def save_job(self, job: TrainingJob) -> None:
        async with self._db.transaction() as tx:
            await tx.db.execute(
                f"REPLACE INTO training_jobs ({_JOB_COLUMNS}) VALUES ({placeholders(15)})",
                _job_values(job),
            )

    async def _one_job(self, where: str, params: tuple[object, ...]) -> TrainingJob | None:
        sql = f"SELECT {_JOB_COLUMNS} FROM training_jobs WHERE {where} LIMIT 1"
        async with self._db.reader.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row is not None else None

    async def job(self, owner_id: str, job_id: str) -> TrainingJob | None:
        return await self._one_job("id = ? AND owner_id = ?", (job_id, owner_id))

    async def unfinished_job(self, owner_id: str) -> TrainingJob | None:
        return await self._one_job(
            "owner_id = ? AND status IN (?, ?) ORDER BY create_time DESC", (owner_id, *_UNFINISHED)
        )

    async def latest_finished_job(self, owner_id: str) -> TrainingJob | None:
        return await self._one_job(
            "owner_id = ? AND status NOT IN (?, ?) ORDER BY create_time DESC",
            (owner_id, *_UNFINISHED),
        )
