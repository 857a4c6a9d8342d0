"""What the enrichment pipeline may do to an insight: claim it, complete it, fail it.

The version is the person's: enrichment never bumps it, and every write checks it, so an edit made
while a job runs always wins (the stale job's write is refused and a job for the new version runs).
"""

from __future__ import annotations

import dataclasses

from services.common.clock import to_micros, utc_now
from services.common.errors import Aborted, FailedPrecondition, NotFound
from services.insight.domain.models import Enrichment, Insight, Source, Status
from services.insight.domain.ports import ChangeNotifier
from services.insight.store.port import InsightStore

MAX_REASON_CHARS = 500


class PipelineSteps:
    def __init__(self, store: InsightStore, changes: ChangeNotifier) -> None:
        self._store = store
        self._changes = changes

    async def _current(self, insight_id: str, version: int) -> Insight:
        insight = await self._store.get_insight_any_owner(insight_id)
        if insight is None:
            raise NotFound("insight not found")
        if insight.version != version:
            raise Aborted(f"insight is at version {insight.version}, not {version}")
        return insight

    async def claim(self, insight_id: str, version: int) -> tuple[Insight, bytes | None]:
        insight = await self._current(insight_id, version)
        # READY and FAILED are final for a version: only an edit (a new version) runs it again.
        if insight.status in (Status.READY, Status.FAILED):
            raise FailedPrecondition(f"insight is already {insight.status.value}")
        claimed = dataclasses.replace(
            insight, status=Status.PROCESSING, status_reason="", update_time=utc_now()
        )
        if not await self._store.replace_insight(claimed, version):
            raise Aborted("insight changed while being claimed")
        audio = None
        if insight.source is Source.AUDIO and not insight.text:
            audio = await self._store.get_audio(insight_id)
        return claimed, audio

    async def complete(self, insight_id: str, version: int, enrichment: Enrichment) -> Insight:
        insight = await self._current(insight_id, version)
        fields: dict[str, object] = {
            "status": Status.READY,
            "status_reason": "",
            "language": enrichment.language,
            "entities": enrichment.entities,
            "keywords": enrichment.keywords,
            "update_time": utc_now(),
        }
        if not insight.theme_set_by_person:
            fields.update(theme=enrichment.theme, theme_confidence=enrichment.theme_confidence)
        if insight.source is Source.AUDIO and not insight.text:
            fields["text"] = enrichment.transcript
        if insight.audio is not None and enrichment.audio_duration_seconds:
            fields["audio"] = dataclasses.replace(
                insight.audio, duration_seconds=enrichment.audio_duration_seconds
            )
        ready = dataclasses.replace(insight, **fields)  # type: ignore[arg-type]
        if not await self._store.replace_insight(ready, version):
            raise Aborted("insight changed while being enriched")
        await self._changes.bump(insight.owner_id)
        return ready

    async def fail(self, insight_id: str, version: int, reason: str) -> None:
        insight = await self._current(insight_id, version)
        reason = reason.strip() or "processing failed"
        await self._settle(insight, version, Status.FAILED, reason, "failed")

    async def defer(self, insight_id: str, version: int, reason: str) -> None:
        """Back to PENDING, with what it waits for: a dependency outage loses no insight. The
        fresh update time makes the sweeper leave it alone for a while, then queue it again."""
        insight = await self._current(insight_id, version)
        if insight.status in (Status.READY, Status.FAILED):
            raise FailedPrecondition(f"insight is already {insight.status.value}")
        await self._settle(insight, version, Status.PENDING, reason, "deferred")

    async def _settle(
        self, insight: Insight, version: int, status: Status, reason: str, action: str
    ) -> None:
        settled = dataclasses.replace(
            insight,
            status=status,
            status_reason=reason.strip()[:MAX_REASON_CHARS],
            update_time=utc_now(),
        )
        if not await self._store.replace_insight(settled, version):
            raise Aborted(f"insight changed while being {action}")

    async def stale(self, older_than_seconds: int, limit: int) -> list[tuple[str, int]]:
        cutoff = to_micros(utc_now()) - older_than_seconds * 1_000_000
        return await self._store.list_stale(cutoff, max(1, min(limit, 1000)))
