"""SqliteAssistantStore on a real file: issued suggestions, feedback, rejections, jobs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
from collections.abc import AsyncIterator

import pytest

from services.assistant.domain import ranking
from services.assistant.domain.models import (
    Feedback,
    JobStatus,
    LinkScorerReport,
    SuggestionKind,
    TrainingJob,
)
from services.assistant.store.sqlite import SqliteAssistantStore
from services.common.clock import to_micros

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture()
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SqliteAssistantStore]:
    opened = SqliteAssistantStore(tmp_path / "assistant.sqlite3")
    await opened.open()
    yield opened
    await opened.close()


async def test_suggestions_feedback_and_rejections(store: SqliteAssistantStore) -> None:
    related = ranking.make(SuggestionKind.RELATED, "i1", 0.8, "r")
    tag = ranking.make(SuggestionKind.TAG, "rust", 0.5, "r")
    await store.remember("ann", [related, tag])
    await store.remember("ann", [related])  # known ones are not written again
    issued = await store.issued("ann", tag.id)
    assert issued is not None and issued.kind is SuggestionKind.TAG and issued.value == "rust"
    assert await store.issued("bob", tag.id) is None
    assert await store.rejections_version("ann") == 0

    await store.add_feedback("ann", Feedback(tag.id, "TAG", "rust", False, NOW))
    await store.add_feedback("ann", Feedback(related.id, "RELATED", "i1", True, NOW))
    await store.add_feedback("ann", Feedback("", "INSIGHT", "i9", False, NOW))
    rejections = await store.rejections("ann")
    assert rejections.suggestion_ids == {tag.id} and rejections.insight_ids == {"i9"}
    assert await store.rejections_version("ann") == 3
    assert (await store.rejections("bob")).suggestion_ids == frozenset()
    assert await store.feedback_since("ann", to_micros(NOW)) == 3
    assert await store.feedback_since("ann", to_micros(NOW) + 1) == 0
    assert await store.known_owners() == ["ann"]


async def test_training_jobs_round_trip(store: SqliteAssistantStore) -> None:
    job = TrainingJob("j1", "ann", JobStatus.QUEUED, NOW)
    await store.create_job(job)
    assert await store.job("ann", "j1") == job
    assert await store.job("bob", "j1") is None
    assert await store.unfinished_job("ann") == job
    assert await store.latest_finished_job("ann") is None
    done = dataclasses.replace(
        job,
        status=JobStatus.SUCCEEDED,
        examples_used=24,
        accuracy_before=0.25,
        accuracy_after=1.0,
        promoted=True,
        model_version=2,
        finish_time=NOW + dt.timedelta(seconds=3),
        link_scorer=LinkScorerReport(0.5, 1, 2),
        examples_digest="abc",
    )
    await store.save_job(done)
    assert await store.job("ann", "j1") == done
    assert await store.unfinished_job("ann") is None
    assert await store.latest_finished_job("ann") == done
    await store.optimize()
