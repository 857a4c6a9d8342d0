"""InsightManager.update against an in-memory store and queue: versions and concurrency, what
re-queues the pipeline, tags and the person's theme, validation."""

from __future__ import annotations

import dataclasses

import pytest

from services.common.errors import (
    Aborted,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.insight.domain.insights import (
    InsightManager,
)
from services.insight.domain.models import (
    InsightChanges,
    Status,
)
from tests.unit.insight_manager.world import (
    ALICE,
    BOB,
    FakeChanges,
    FakeQueue,
    FakeStore,
    enriched,
)

# --- update ---


async def test_update_with_stale_expected_version_is_aborted(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    current = enriched(version=3)
    store.insights[current.id] = current

    with pytest.raises(Aborted) as caught:
        await manager.update(ALICE, current.id, InsightChanges(text="new", expected_version=2))

    assert "3" in caught.value.message
    assert store.insights[current.id] == current
    assert store.replace_calls == 0
    assert queue.queued == []


async def test_update_with_current_expected_version_applies(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched(version=3)

    updated = await manager.update(ALICE, "e-1", InsightChanges(tags=("x",), expected_version=3))

    assert updated.version == 4
    assert store.insights["e-1"] == updated


async def test_update_of_text_resets_enrichment_and_requeues(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    current = enriched()
    store.insights[current.id] = current

    updated = await manager.update(ALICE, current.id, InsightChanges(text="  Rewritten text  "))

    assert updated.text == "Rewritten text"
    assert updated.status is Status.PENDING
    assert (updated.status_reason, updated.language) == ("", "")
    assert (updated.entities, updated.keywords) == ((), ())
    assert (updated.theme, updated.theme_confidence) == ("", 0.0)
    assert updated.tags == current.tags
    assert updated.version == current.version + 1
    assert updated.update_time != current.update_time
    assert updated.create_time == current.create_time
    assert store.insights[current.id] == updated
    assert queue.queued == [(current.id, current.version + 1)]


async def test_update_of_text_keeps_the_persons_theme(
    manager: InsightManager, store: FakeStore
) -> None:
    current = enriched(theme="Mine", theme_confidence=1.0, theme_set_by_person=True)
    store.insights[current.id] = current

    updated = await manager.update(ALICE, current.id, InsightChanges(text="new words"))

    assert (updated.theme, updated.theme_confidence, updated.theme_set_by_person) == (
        "Mine",
        1.0,
        True,
    )


async def test_update_of_text_survives_an_unavailable_queue(store: FakeStore) -> None:
    store.insights["e-1"] = enriched()
    manager = InsightManager(store, FakeQueue(error=Unavailable("queue down")), FakeChanges())

    updated = await manager.update(ALICE, "e-1", InsightChanges(text="new words"))

    assert store.insights["e-1"] == updated
    assert updated.status is Status.PENDING


async def test_update_of_only_tags_does_not_requeue(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    current = enriched()
    store.insights[current.id] = current

    updated = await manager.update(ALICE, current.id, InsightChanges(tags=(" new ", "new", "b")))

    assert updated.tags == ("new", "b")
    assert updated == dataclasses.replace(
        current, tags=("new", "b"), version=current.version + 1, update_time=updated.update_time
    )
    assert queue.queued == []


@pytest.mark.parametrize("status", [Status.READY, Status.FAILED])
async def test_update_of_tags_or_theme_of_a_finished_insight_does_not_requeue(
    manager: InsightManager, store: FakeStore, queue: FakeQueue, status: Status
) -> None:
    store.insights["e-1"] = enriched(status=status)

    updated = await manager.update(ALICE, "e-1", InsightChanges(tags=("x",), theme="Mine"))

    assert updated.status is status
    assert queue.queued == []


@pytest.mark.parametrize("status", [Status.PENDING, Status.PROCESSING])
async def test_update_of_an_unfinished_insight_queues_the_new_version(
    manager: InsightManager, store: FakeStore, queue: FakeQueue, status: Status
) -> None:
    # A job still running for the old version will be refused, so the new version is queued.
    store.insights["e-1"] = enriched(status=status, version=3)

    updated = await manager.update(ALICE, "e-1", InsightChanges(tags=("x",)))

    assert updated.status is status
    assert queue.queued == [("e-1", 4)]


async def test_update_with_empty_tags_clears_them(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched()

    updated = await manager.update(ALICE, "e-1", InsightChanges(tags=()))

    assert updated.tags == ()


async def test_theme_update_is_the_persons_with_full_confidence(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    current = enriched(theme="Research", theme_confidence=0.7)
    store.insights[current.id] = current

    updated = await manager.update(ALICE, current.id, InsightChanges(theme="  Travel "))

    assert (updated.theme, updated.theme_confidence, updated.theme_set_by_person) == (
        "Travel",
        1.0,
        True,
    )
    assert updated.status is Status.READY
    assert updated.version == current.version + 1
    assert queue.queued == []


async def test_confirming_the_classifiers_theme_marks_it_as_the_persons(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched(theme="Research", theme_confidence=0.7)

    updated = await manager.update(ALICE, "e-1", InsightChanges(theme="Research"))

    assert (updated.theme_confidence, updated.theme_set_by_person) == (1.0, True)


async def test_clearing_the_theme(manager: InsightManager, store: FakeStore) -> None:
    store.insights["e-1"] = enriched(theme="Mine", theme_confidence=1.0, theme_set_by_person=True)

    updated = await manager.update(ALICE, "e-1", InsightChanges(theme=""))

    assert (updated.theme, updated.theme_confidence, updated.theme_set_by_person) == (
        "",
        0.0,
        False,
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(InsightChanges(), id="nothing"),
        pytest.param(InsightChanges(text=" Apple opens a lab in Berlin "), id="same-text"),
        pytest.param(InsightChanges(tags=("work", "berlin", "work")), id="same-tags"),
        pytest.param(InsightChanges(theme="Mine"), id="same-theme"),
        pytest.param(InsightChanges(expected_version=3), id="only-version"),
    ],
)
async def test_noop_update_does_not_bump_the_version(
    manager: InsightManager, store: FakeStore, queue: FakeQueue, changes: InsightChanges
) -> None:
    current = enriched(theme="Mine", theme_confidence=1.0, theme_set_by_person=True)
    store.insights[current.id] = current

    result = await manager.update(ALICE, current.id, changes)

    assert result == current
    assert store.insights[current.id] == current
    assert store.replace_calls == 0
    assert queue.queued == []


async def test_update_of_another_owners_insight_is_not_found(
    manager: InsightManager, store: FakeStore
) -> None:
    current = enriched()
    store.insights[current.id] = current

    with pytest.raises(NotFound):
        await manager.update(BOB, current.id, InsightChanges(text="mine now"))
    assert store.insights[current.id] == current


async def test_invalid_update_reports_every_field(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched()

    with pytest.raises(InvalidArgument) as caught:
        await manager.update(
            ALICE, "e-1", InsightChanges(text="", tags=("ok", "\x00"), theme="t" * 65)
        )

    assert [v.field for v in caught.value.violations] == ["text", "tags[1]", "theme"]
    assert store.replace_calls == 0


async def test_update_without_version_retries_a_concurrent_change(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched(version=3)
    store.concurrent_writes = 2

    updated = await manager.update(ALICE, "e-1", InsightChanges(tags=("x",)))

    assert updated.version == 6  # two other writes landed first (4, 5)
    assert store.insights["e-1"] == updated
    assert store.replace_calls == 3


async def test_update_without_version_gives_up_under_endless_contention(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched(version=3)
    store.concurrent_writes = 1000

    with pytest.raises(Aborted):
        await manager.update(ALICE, "e-1", InsightChanges(tags=("x",)))
    assert store.insights["e-1"].tags == ("work", "berlin")


async def test_update_with_version_aborts_on_a_concurrent_change(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    store.insights["e-1"] = enriched(version=3)
    store.concurrent_writes = 1

    with pytest.raises(Aborted):
        await manager.update(ALICE, "e-1", InsightChanges(text="new", expected_version=3))

    assert store.replace_calls == 1
    assert store.insights["e-1"].text == "Apple opens a lab in Berlin"
    assert queue.queued == []
