"""Backups of the embedded stores: a consistent copy of every *.sqlite3, the newest 7 kept."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3

from services.assistant.maintenance import BACKUPS_KEPT, backup_sqlite_files


def test_backups_copy_every_store_and_keep_the_newest(tmp_path: pathlib.Path) -> None:
    for name in ("insight", "graph"):
        db = sqlite3.connect(tmp_path / f"{name}.sqlite3")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES (?)", (name,))
        db.commit()  # left open: the copy must include what is still only in the WAL
    (tmp_path / "notes.txt").write_text("not a store")
    start = dt.datetime(2025, 6, 1, 3, 0, tzinfo=dt.UTC)
    made = [backup_sqlite_files(tmp_path, start + dt.timedelta(days=n)) for n in range(9)]
    snapshots = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert snapshots == [p.name for p in made[-BACKUPS_KEPT:]]
    assert snapshots[-1] == "20250609T030000Z"
    latest = made[-1]
    assert sorted(p.name for p in latest.iterdir()) == ["graph.sqlite3", "insight.sqlite3"]
    copy = sqlite3.connect(latest / "graph.sqlite3")
    assert copy.execute("SELECT v FROM t").fetchall() == [("graph",)]
    copy.close()
