"""The assistant's embedded store: migrations, applied in order by SqliteDatabase."""

from __future__ import annotations

MIGRATIONS = [
    """
    CREATE TABLE suggestions (
        owner_id TEXT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        PRIMARY KEY (owner_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE feedback (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id TEXT NOT NULL,
        suggestion_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        accepted INTEGER NOT NULL,
        create_time INTEGER NOT NULL
    );
    CREATE INDEX feedback_by_owner ON feedback (owner_id, accepted, seq);
    CREATE INDEX feedback_by_time ON feedback (owner_id, create_time);
    CREATE TABLE training_jobs (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        status TEXT NOT NULL,
        examples_used INTEGER NOT NULL DEFAULT 0,
        accuracy_before REAL NOT NULL DEFAULT 0,
        accuracy_after REAL NOT NULL DEFAULT 0,
        promoted INTEGER NOT NULL DEFAULT 0,
        model_version INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        link_threshold REAL NOT NULL DEFAULT 0,
        link_positive_examples INTEGER NOT NULL DEFAULT 0,
        link_negative_examples INTEGER NOT NULL DEFAULT 0,
        examples_digest TEXT NOT NULL DEFAULT '',
        create_time INTEGER NOT NULL,
        finish_time INTEGER
    );
    CREATE INDEX training_jobs_by_owner ON training_jobs (owner_id, create_time)
    """,
]
