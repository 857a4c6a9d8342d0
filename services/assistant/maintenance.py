"""Maintenance tasks the trainer runs on a schedule (see schedule.py).

- backup_sqlite_files: copies every embedded store (data_dir/*.sqlite3: insight, graph,
  assistant) with SQLite's online backup API, which takes a consistent snapshot while the
  services keep writing, into data_dir/backups/<UTC timestamp>/, and keeps the newest
  BACKUPS_KEPT snapshots. A snapshot is written under a `.partial` name and renamed when
  complete, so a crash never leaves a half backup that looks whole. Deployments on MongoDB or
  Neo4j back those up with the engines' own tools; this covers the embedded default.
- reindex: `PRAGMA optimize` on the assistant's store, and drops the assistant's cached
  responses so they are rebuilt from the current indexes on next use.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import shutil
import sqlite3

import redis.asyncio as aioredis

from services.assistant.domain import cache_keys
from services.assistant.store.sqlite import SqliteAssistantStore

BACKUPS_KEPT = 7
_SNAPSHOT = re.compile(r"^\d{8}T\d{6}Z$")


def backup_sqlite_files(data_dir: pathlib.Path, now: dt.datetime) -> pathlib.Path:
    backups = data_dir / "backups"
    target = backups / now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for path in sorted(data_dir.glob("*.sqlite3")):
        source = sqlite3.connect(path, timeout=30)
        copy = sqlite3.connect(partial / path.name)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    partial.rename(target)
    prune_backups(backups, BACKUPS_KEPT)
    return target


def prune_backups(backups: pathlib.Path, keep: int) -> list[pathlib.Path]:
    snapshots = sorted(p for p in backups.iterdir() if p.is_dir() and _SNAPSHOT.match(p.name))
    removed = snapshots[:-keep] if keep > 0 else snapshots
    for old in removed:
        shutil.rmtree(old)
    return removed


async def reindex(store: SqliteAssistantStore, redis: aioredis.Redis) -> int:
    """Returns how many cached responses were dropped."""
    await store.optimize()
    dropped = 0
    batch: list[bytes | str] = []
    async for key in redis.scan_iter(match=f"{cache_keys.PREFIX}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            dropped += int(await redis.unlink(*batch))
            batch = []
    if batch:
        dropped += int(await redis.unlink(*batch))
    return dropped
