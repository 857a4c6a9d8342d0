"""InsightManager's logic against an in-memory store and queue; page tokens."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import wave

import pytest

from services.common.errors import (
    Aborted,
    AlreadyExists,
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
    Entity,
    Insight,
    InsightChanges,
    InsightFilter,
    InsightPage,
    NewAccount,
    PageCursor,
    Source,
    Status,
    User,
)

ALICE = "alice"
BOB = "bob"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


class FakeStore:
    """An in-memory InsightStore with just enough behaviour for the manager's logic."""

    def __init__(self) -> None:
        self.insights: dict[str, Insight] = {}
        self.audio: dict[str, bytes] = {}
        self.users: dict[str, tuple[User, str]] = {}
        self.replace_calls = 0
        # Each entry simulates another writer bumping the version just before a replace.
        self.concurrent_writes = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def add_user(self, account: NewAccount) -> User:
        if account.email in self.users:
            raise AlreadyExists("this email is already registered")
        user = User(account.id, account.email, account.display_name, account.create_time)
        self.users[account.email] = (user, account.password_hash)
        return user

    async def find_credentials(self, email: str) -> tuple[User, str] | None:
        return self.users.get(email)

    async def add_insight(self, insight: Insight, audio: bytes | None = None) -> None:
        assert insight.id not in self.insights
        self.insights[insight.id] = insight
        if audio is not None:
            self.audio[insight.id] = audio

    async def get_insight(self, owner_id: str, insight_id: str) -> Insight | None:
        insight = self.insights.get(insight_id)
        return insight if insight is not None and insight.owner_id == owner_id else None

    async def get_insight_any_owner(self, insight_id: str) -> Insight | None:
        return self.insights.get(insight_id)

    async def get_audio(self, insight_id: str) -> bytes | None:
        return self.audio.get(insight_id)

    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage:
        mine = sorted(
            (i for i in self.insights.values() if i.owner_id == owner_id),
            key=lambda i: (i.create_time, i.id),
            reverse=True,
        )
        if where.tag:
            mine = [i for i in mine if where.tag in i.tags]
        total = len(mine)
        if after is not None:
            mine = [
                i for i in mine if (i.create_time, i.id) < (after.create_time, after.insight_id)
            ]
        page = mine[:page_size]
        cursor = PageCursor(page[-1].create_time, page[-1].id) if len(mine) > page_size else None
        return InsightPage(insights=page, next_cursor=cursor, total_size=total)

    async def replace_insight(self, insight: Insight, expected_version: int) -> bool:
        self.replace_calls += 1
        stored = self.insights.get(insight.id)
        if self.concurrent_writes and stored is not None:
            self.concurrent_writes -= 1
            stored = dataclasses.replace(stored, version=stored.version + 1)
            self.insights[insight.id] = stored
        if stored is None or stored.owner_id != insight.owner_id:
            return False
        if stored.version != expected_version:
            return False
        self.insights[insight.id] = insight
        return True

    async def delete_insight(self, owner_id: str, insight_id: str) -> bool:
        if await self.get_insight(owner_id, insight_id) is None:
            return False
        del self.insights[insight_id]
        self.audio.pop(insight_id, None)
        return True

    async def list_stale(self, updated_before_us: int, limit: int) -> list[tuple[str, int]]:
        return []

    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        return []

    async def forget_graph_removal(self, insight_id: str) -> None:
        return None


class FakeQueue:
    def __init__(self, error: Exception | None = None) -> None:
        self.queued: list[tuple[str, int]] = []
        self.error = error

    async def enqueue_processing(self, insight_id: str, version: int) -> None:
        if self.error is not None:
            raise self.error
        self.queued.append((insight_id, version))


@pytest.fixture()
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture()
def queue() -> FakeQueue:
    return FakeQueue()


class FakeChanges:
    def __init__(self) -> None:
        self.bumped: list[str] = []

    async def bump(self, owner_id: str) -> None:
        self.bumped.append(owner_id)


@pytest.fixture()
def changes() -> FakeChanges:
    return FakeChanges()


@pytest.fixture()
def manager(store: FakeStore, queue: FakeQueue, changes: FakeChanges) -> InsightManager:
    return InsightManager(store, queue, changes)


async def test_every_write_tells_the_change_feed(
    manager: InsightManager, changes: FakeChanges
) -> None:
    created = await manager.create(ALICE, "one", [])
    await manager.get(ALICE, created.id)
    await manager.update(ALICE, created.id, InsightChanges(tags=("t",)))
    await manager.update(ALICE, created.id, InsightChanges(tags=("t",)))  # no change: no bump
    await manager.delete(ALICE, created.id)

    assert changes.bumped == [ALICE, ALICE, ALICE]


def enriched(insight_id: str = "e-1", **fields: object) -> Insight:
    """An insight the pipeline has finished with, as the store would hold it."""
    base = Insight(
        id=insight_id,
        owner_id=ALICE,
        text="Apple opens a lab in Berlin",
        tags=("work", "berlin"),
        source=Source.TEXT,
        status=Status.READY,
        version=3,
        create_time=T0,
        update_time=T0,
        status_reason="done",
        language="en",
        entities=(Entity("Apple", "ORG"), Entity("Berlin", "GPE")),
        keywords=("lab", "berlin"),
        theme="Research",
        theme_confidence=0.7,
        theme_set_by_person=False,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def make_wav(frames: int, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x01" * frames)
    return buffer.getvalue()


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
        await manager.create_from_audio(ALICE, "audio/mpeg", make_wav(frames=100), [])

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
