"""Insight use cases: create, read, edit, delete, list. Every call acts for one owner."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Callable

from services.common.clock import from_micros, to_micros, utc_now
from services.common.errors import Aborted, InvalidArgument, NotFound, Unavailable
from services.insight.domain.audio import check_audio
from services.insight.domain.models import (
    AudioInfo,
    Insight,
    InsightChanges,
    InsightFilter,
    InsightPage,
    PageCursor,
    Source,
    Status,
)
from services.insight.domain.ports import ChangeNotifier, MeaningSearch, PipelineQueue
from services.insight.domain.validation import (
    MAX_QUERY_CHARS,
    Violations,
    check_page_size,
    check_tags,
    check_text,
    check_theme,
)
from services.insight.store.port import InsightStore

log = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "insight not found"
# Concurrent edits without an explicit version retry this often before giving up.
_UPDATE_ATTEMPTS = 5


def _filter_fingerprint(where: InsightFilter) -> str:
    # The caller's filters only: the insights close in meaning are found again for every page.
    asked = dataclasses.replace(where, meaning_matches=frozenset())
    raw = json.dumps(dataclasses.asdict(asked), default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_page_token(cursor: PageCursor, where: InsightFilter) -> str:
    payload = {
        "t": to_micros(cursor.create_time),
        "i": cursor.insight_id,
        "f": _filter_fingerprint(where),
    }
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_page_token(token: str, where: InsightFilter) -> PageCursor | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor = PageCursor(from_micros(int(payload["t"])), str(payload["i"]))
        fingerprint = payload["f"]
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidArgument.field("page_token", "is not a token this API issued") from exc
    if fingerprint != _filter_fingerprint(where):
        raise InvalidArgument.field("page_token", "was issued for different filters")
    return cursor


class InsightManager:
    def __init__(
        self,
        store: InsightStore,
        queue: PipelineQueue,
        changes: ChangeNotifier,
        on_delete: Callable[[], None] = lambda: None,
        meanings: MeaningSearch | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._changes = changes
        self._meanings = meanings  # None: `query` matches words only
        self._on_delete = on_delete  # e.g. wake the graph-removal outbox

    async def create(self, owner_id: str, text: str, tags: list[str]) -> Insight:
        problems = Violations()
        text = check_text(text, "text", problems)
        clean_tags = check_tags(tags, "tags", problems)
        problems.raise_if_any()
        now = utc_now()
        insight = Insight(
            id=uuid.uuid4().hex,
            owner_id=owner_id,
            text=text,
            tags=clean_tags,
            source=Source.TEXT,
            status=Status.PENDING,
            version=1,
            create_time=now,
            update_time=now,
        )
        await self._store.add_insight(insight)
        await self._changes.bump(owner_id)
        await self._queue_safely(insight)
        return insight

    async def create_from_audio(
        self, owner_id: str, content_type: str, data: bytes, tags: list[str]
    ) -> Insight:
        problems = Violations()
        clean_tags = check_tags(tags, "tags", problems)
        problems.raise_if_any()
        audio = await asyncio.to_thread(check_audio, content_type, data)
        now = utc_now()
        insight = Insight(
            id=uuid.uuid4().hex,
            owner_id=owner_id,
            text="",
            tags=clean_tags,
            source=Source.AUDIO,
            status=Status.PENDING,
            version=1,
            create_time=now,
            update_time=now,
            audio=AudioInfo(audio.format, len(data), audio.duration_seconds),
        )
        await self._store.add_insight(insight, audio=data)
        await self._changes.bump(owner_id)
        await self._queue_safely(insight)
        return insight

    async def _queue_safely(self, insight: Insight) -> None:
        # The insight is already durable; if the queue is down the sweeper re-queues it later,
        # so the person's write still succeeds.
        try:
            await self._queue.enqueue_processing(insight.id, insight.version)
        except Unavailable:
            log.warning(
                "queue unavailable; insight left for the sweeper", extra={"insight_id": insight.id}
            )

    async def get(self, owner_id: str, insight_id: str) -> Insight:
        insight = await self._store.get_insight(owner_id, insight_id)
        if insight is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        return insight

    async def list(
        self, owner_id: str, where: InsightFilter, page_size: int, page_token: str
    ) -> tuple[InsightPage, str]:
        problems = Violations()
        size = check_page_size(page_size, problems)
        if len(where.query) > MAX_QUERY_CHARS:
            problems.add("query", f"must be at most {MAX_QUERY_CHARS} characters")
        if (
            where.created_after
            and where.created_before
            and where.created_after >= where.created_before
        ):
            problems.add("created_before", "must be later than created_after")
        problems.raise_if_any()
        cursor = decode_page_token(page_token, where)
        wanted = where
        if where.query.strip() and self._meanings is not None:
            close = await self._meanings.close_in_meaning(owner_id, where.query)
            wanted = dataclasses.replace(where, meaning_matches=close)
        page = await self._store.list_insights(owner_id, wanted, size, cursor)
        next_token = encode_page_token(page.next_cursor, where) if page.next_cursor else ""
        return page, next_token

    async def update(self, owner_id: str, insight_id: str, changes: InsightChanges) -> Insight:
        problems = Violations()
        text = check_text(changes.text, "text", problems) if changes.text is not None else None
        tags = None if changes.tags is None else check_tags(list(changes.tags), "tags", problems)
        theme = None if changes.theme is None else check_theme(changes.theme, "theme", problems)
        problems.raise_if_any()
        for _ in range(_UPDATE_ATTEMPTS):
            current = await self.get(owner_id, insight_id)
            expected = changes.expected_version
            if expected is not None and expected != current.version:
                raise Aborted(
                    f"insight changed since version {expected}; "
                    f"the current version is {current.version}"
                )
            updated = self._apply(current, text, tags, theme)
            if updated is current:
                return current
            if await self._store.replace_insight(updated, current.version):
                await self._changes.bump(owner_id)
                # A job still running for the old version will be refused; queue the new one.
                if updated.status in (Status.PENDING, Status.PROCESSING):
                    await self._queue_safely(updated)
                return updated
            if changes.expected_version is not None:
                raise Aborted("insight changed concurrently; reload and retry")
        raise Aborted("insight is being changed concurrently; retry")

    @staticmethod
    def _apply(
        current: Insight, text: str | None, tags: tuple[str, ...] | None, theme: str | None
    ) -> Insight:
        fields: dict[str, object] = {}
        if text is not None and text != current.text:
            # New text invalidates every enrichment: the pipeline runs again.
            fields.update(
                text=text,
                status=Status.PENDING,
                status_reason="",
                language="",
                entities=(),
                keywords=(),
            )
            if not current.theme_set_by_person:
                fields.update(theme="", theme_confidence=0.0)
        if tags is not None and tags != current.tags:
            fields["tags"] = tags
        current_theme = (current.theme, current.theme_set_by_person)
        if theme is not None and (theme, bool(theme)) != current_theme:
            fields.update(
                theme=theme, theme_confidence=1.0 if theme else 0.0, theme_set_by_person=bool(theme)
            )
        if not fields:
            return current
        return dataclasses.replace(
            current,
            **fields,  # type: ignore[arg-type]
            version=current.version + 1,
            update_time=utc_now(),
        )

    async def delete(self, owner_id: str, insight_id: str) -> None:
        if not await self._store.delete_insight(owner_id, insight_id):
            raise NotFound(NOT_FOUND_MESSAGE)
        await self._changes.bump(owner_id)
        self._on_delete()
