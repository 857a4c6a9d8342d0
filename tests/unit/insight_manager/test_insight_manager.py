"""InsightManager against an in-memory store and queue: create, get, delete, list; page tokens.
Updates are in test_insight_manager_updates.py."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from services.common.errors import (
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.insight.domain.insights import (
    InsightManager,
    decode_page_token,
    encode_page_token,
)
from services.insight.domain.models import (
    AudioInfo,
    InsightChanges,
    InsightFilter,
    PageCursor,
    Source,
    Status,
)
from tests.unit.insight_manager.world import (
    ALICE,
    BOB,
    T0,
    FakeChanges,
    FakeQueue,
    FakeStore,
    enriched,
    make_wav,
)


async def test_every_write_tells_the_change_feed(
    manager: InsightManager, changes: FakeChanges
) -> None:
    created = await manager.create(ALICE, "one", [])
    await manager.get(ALICE, created.id)
    await manager.update(ALICE, created.id, InsightChanges(tags=("t",)))
    await manager.update(ALICE, created.id, InsightChanges(tags=("t",)))  # no change: no bump
    await manager.delete(ALICE, created.id)

    assert changes.bumped == [ALICE, ALICE, ALICE]


# --- create ---


async def test_create_stores_and_enqueues_the_version(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    created = await manager.create(ALICE, "  An idea worth keeping \n", [" work", "work", "idea "])

    assert created.owner_id == ALICE
    assert created.text == "An idea worth keeping"
    assert created.tags == ("work", "idea")
    assert (created.source, created.status, created.version) == (Source.TEXT, Status.PENDING, 1)
    assert created.create_time == created.update_time
    assert created.create_time.tzinfo is not None
    assert store.insights == {created.id: created}
    assert queue.queued == [(created.id, 1)]


async def test_create_gives_each_insight_its_own_id(manager: InsightManager) -> None:
    first = await manager.create(ALICE, "one", [])
    second = await manager.create(ALICE, "two", [])

    assert first.id != second.id


async def test_create_survives_an_unavailable_queue(store: FakeStore) -> None:
    manager = InsightManager(store, FakeQueue(error=Unavailable("queue down")), FakeChanges())

    created = await manager.create(ALICE, "still saved", [])

    assert store.insights[created.id] == created


async def test_create_does_not_swallow_other_queue_errors(store: FakeStore) -> None:
    manager = InsightManager(
        store, FakeQueue(error=RuntimeError("bug in the queue adapter")), FakeChanges()
    )

    with pytest.raises(RuntimeError):
        await manager.create(ALICE, "text", [])


async def test_invalid_create_reports_every_violation_and_stores_nothing(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await manager.create(ALICE, " \t ", ["ok", "", "fine", "x" * 65])

    assert [v.field for v in caught.value.violations] == ["text", "tags[1]", "tags[3]"]
    assert store.insights == {}
    assert queue.queued == []


async def test_create_from_audio_stores_the_voice_note(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    data = make_wav(frames=8000, rate=16_000)

    created = await manager.create_from_audio(ALICE, "audio/x-wav; rate=16000", data, ["voice"])

    assert (created.source, created.status, created.text) == (Source.AUDIO, Status.PENDING, "")
    assert created.tags == ("voice",)
    assert created.audio == AudioInfo("audio/wav", len(data), 0.5)
    assert store.audio[created.id] == data
    assert queue.queued == [(created.id, 1)]


async def test_create_from_bad_audio_stores_nothing(
    manager: InsightManager, store: FakeStore, queue: FakeQueue
) -> None:
    with pytest.raises(InvalidArgument):
        await manager.create_from_audio(ALICE, "audio/webm", make_wav(frames=100), [])

    assert store.insights == {}
    assert queue.queued == []


# --- get and delete ---


async def test_get_own_insight(manager: InsightManager, store: FakeStore) -> None:
    insight = enriched()
    store.insights[insight.id] = insight

    assert await manager.get(ALICE, insight.id) == insight


async def test_get_of_another_owners_insight_is_not_found(
    manager: InsightManager, store: FakeStore
) -> None:
    store.insights["e-1"] = enriched()

    with pytest.raises(NotFound):
        await manager.get(BOB, "e-1")
    with pytest.raises(NotFound):
        await manager.get(ALICE, "missing")


async def test_delete(manager: InsightManager, store: FakeStore) -> None:
    store.insights["e-1"] = enriched()

    with pytest.raises(NotFound):
        await manager.delete(BOB, "e-1")
    assert "e-1" in store.insights

    await manager.delete(ALICE, "e-1")
    assert store.insights == {}
    with pytest.raises(NotFound):
        await manager.delete(ALICE, "e-1")


# --- list and page tokens ---


async def test_list_walks_pages_with_tokens(manager: InsightManager, store: FakeStore) -> None:
    for n in range(5):
        created = T0 + dt.timedelta(seconds=n)
        store.insights[f"l{n}"] = enriched(f"l{n}", create_time=created)

    first, token = await manager.list(ALICE, InsightFilter(), 2, "")
    second, token2 = await manager.list(ALICE, InsightFilter(), 2, token)
    third, token3 = await manager.list(ALICE, InsightFilter(), 2, token2)

    pages = [first, second, third]
    assert [[i.id for i in page.insights] for page in pages] == [["l4", "l3"], ["l2", "l1"], ["l0"]]
    assert all(page.total_size == 5 for page in pages)
    assert token and token2
    assert token3 == ""


async def test_list_uses_the_default_page_size(manager: InsightManager, store: FakeStore) -> None:
    for n in range(25):
        store.insights[f"l{n:02d}"] = enriched(f"l{n:02d}")

    page, token = await manager.list(ALICE, InsightFilter(), 0, "")

    assert len(page.insights) == 20
    assert token


async def test_list_reports_every_bad_argument(manager: InsightManager) -> None:
    where = InsightFilter(query="q" * 501, created_after=T0, created_before=T0)

    with pytest.raises(InvalidArgument) as caught:
        await manager.list(ALICE, where, 101, "")

    assert [v.field for v in caught.value.violations] == ["page_size", "query", "created_before"]


async def test_list_rejects_a_token_reused_with_other_filters(
    manager: InsightManager, store: FakeStore
) -> None:
    for n in range(3):
        store.insights[f"l{n}"] = enriched(f"l{n}", create_time=T0 + dt.timedelta(seconds=n))
    _, token = await manager.list(ALICE, InsightFilter(tag="work"), 1, "")

    with pytest.raises(InvalidArgument) as caught:
        await manager.list(ALICE, InsightFilter(tag="home"), 1, token)

    assert [v.field for v in caught.value.violations] == ["page_token"]


def test_page_token_round_trip() -> None:
    where = InsightFilter(tag="work", status=Status.READY, query="lab", created_after=T0)
    cursor = PageCursor(T0 + dt.timedelta(microseconds=7), "insight-9")

    token = encode_page_token(cursor, where)

    assert decode_page_token(token, where) == cursor
    assert "=" not in token


def test_empty_page_token_means_first_page() -> None:
    assert decode_page_token("", InsightFilter()) is None


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "x",
        "not-base64-at-all-$$$",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(b'"a string"').decode(),
        base64.urlsafe_b64encode(b'{"t": "soon", "i": "x", "f": "y"}').decode(),
        base64.urlsafe_b64encode(b'{"i": "x", "f": "y"}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    ],
)
def test_garbage_page_token_is_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(token, InsightFilter())

    assert [v.field for v in caught.value.violations] == ["page_token"]


@pytest.mark.parametrize(
    "other",
    [
        InsightFilter(tag="home"),
        InsightFilter(tag="work", theme="Research"),
        InsightFilter(tag="work", status=Status.PENDING),
        InsightFilter(tag="work", source=Source.AUDIO),
        InsightFilter(tag="work", created_before=T0),
        InsightFilter(tag="work", query="lab"),
        InsightFilter(),
    ],
)
def test_page_token_reused_with_different_filters_is_rejected(other: InsightFilter) -> None:
    token = encode_page_token(PageCursor(T0, "i-1"), InsightFilter(tag="work"))

    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(token, other)

    assert [v.field for v in caught.value.violations] == ["page_token"]
    assert "different filters" in caught.value.violations[0].description


@pytest.mark.parametrize("micros", ["100000000000000000000", "1e400", "-100000000000000000000"])
def test_page_token_with_out_of_range_time_is_invalid_argument(micros: str) -> None:
    raw = '{"t": ' + micros + ', "i": "x", "f": "0000000000000000"}'
    token = base64.urlsafe_b64encode(raw.encode()).decode()

    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(token, InsightFilter())

    assert [v.field for v in caught.value.violations] == ["page_token"]
