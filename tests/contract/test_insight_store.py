"""The InsightStore contract: every adapter must pass this one suite (see conftest.BACKENDS)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from services.common.clock import to_micros
from services.common.errors import AlreadyExists
from services.insight.domain.models import (
    AudioInfo,
    Entity,
    Insight,
    InsightFilter,
    NewAccount,
    PageCursor,
    Source,
    Status,
)
from services.insight.store.port import InsightStore
from tests.contract.conftest import ReopenStore

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
ALICE = "owner-alice"
BOB = "owner-bob"
EVERYTHING = InsightFilter()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def make_insight(
    insight_id: str,
    owner_id: str = ALICE,
    created: dt.datetime = T0,
    **fields: object,
) -> Insight:
    base = Insight(
        id=insight_id,
        owner_id=owner_id,
        text=f"text of {insight_id}",
        tags=(),
        source=Source.TEXT,
        status=Status.PENDING,
        version=1,
        create_time=created,
        update_time=created,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def full_insight(insight_id: str = "full-1", owner_id: str = ALICE) -> Insight:
    return Insight(
        id=insight_id,
        owner_id=owner_id,
        text="Apple is opening a research lab in Berlin — «naïve» 🎉\nsecond line",
        tags=("zeta", "alpha", "mid", "Ünïcode tag"),
        source=Source.AUDIO,
        status=Status.READY,
        version=7,
        create_time=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        update_time=dt.datetime(2026, 1, 2, 3, 4, 6, 1, tzinfo=dt.UTC),
        status_reason="enriched after 2 attempts",
        language="en",
        entities=(Entity("Apple", "ORG"), Entity("Berlin", "GPE"), Entity("Apple", "PRODUCT")),
        keywords=("research lab", "berlin", "apple"),
        theme="Research",
        theme_confidence=0.8125,
        theme_set_by_person=True,
        audio=AudioInfo(format="audio/wav", size_bytes=44_144, duration_seconds=2.5),
    )


def account(user_id: str, email: str) -> NewAccount:
    return NewAccount(
        id=user_id,
        email=email,
        display_name=f"Person {user_id}",
        password_hash=f"$argon2id$hash-of-{user_id}",
        create_time=dt.datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
    )


async def list_ids(
    store: InsightStore, where: InsightFilter = EVERYTHING, owner_id: str = ALICE
) -> list[str]:
    page = await store.list_insights(owner_id, where, 100, None)
    assert page.next_cursor is None
    assert page.total_size == len(page.insights)
    return [insight.id for insight in page.insights]


# --- accounts ---


async def test_add_user_then_find_credentials(insight_store: InsightStore) -> None:
    new = account("u-1", "ada@example.com")
    user = await insight_store.add_user(new)
    assert (user.id, user.email, user.display_name) == ("u-1", "ada@example.com", "Person u-1")
    assert user.create_time == new.create_time

    found = await insight_store.find_credentials("ada@example.com")

    assert found is not None
    found_user, password_hash = found
    assert found_user == user
    assert password_hash == new.password_hash


async def test_find_credentials_of_unknown_email_is_none(insight_store: InsightStore) -> None:
    await insight_store.add_user(account("u-1", "ada@example.com"))

    assert await insight_store.find_credentials("bob@example.com") is None


async def test_duplicate_email_is_already_exists_and_keeps_first(
    insight_store: InsightStore,
) -> None:
    first = await insight_store.add_user(account("u-1", "ada@example.com"))

    with pytest.raises(AlreadyExists):
        await insight_store.add_user(account("u-2", "ada@example.com"))

    found = await insight_store.find_credentials("ada@example.com")
    assert found is not None
    assert found[0] == first
    # The store still accepts other writes after the failed one.
    await insight_store.add_user(account("u-3", "grace@example.com"))
    assert await insight_store.find_credentials("grace@example.com") is not None


# --- insights: round trip, scoping, audio ---


async def test_insight_round_trips_every_field(insight_store: InsightStore) -> None:
    insight = full_insight()
    await insight_store.add_insight(insight)

    stored = await insight_store.get_insight(ALICE, insight.id)

    assert stored == insight
    assert stored is not None
    assert stored.tags == ("zeta", "alpha", "mid", "Ünïcode tag")
    assert stored.create_time.microsecond == 678901
    assert stored.update_time.microsecond == 1
    assert stored.create_time.utcoffset() == dt.timedelta(0)


async def test_minimal_insight_round_trips(insight_store: InsightStore) -> None:
    insight = make_insight("min-1", created=at(0.000001))
    await insight_store.add_insight(insight)

    stored = await insight_store.get_insight(ALICE, "min-1")

    assert stored == insight
    assert stored is not None
    assert stored.audio is None
    assert stored.theme_set_by_person is False


async def test_get_unknown_insight_is_none(insight_store: InsightStore) -> None:
    await insight_store.add_insight(make_insight("i-1"))

    assert await insight_store.get_insight(ALICE, "nope") is None
    assert await insight_store.get_insight_any_owner("nope") is None


async def test_get_insight_any_owner_finds_any_owners_insight(insight_store: InsightStore) -> None:
    alices, bobs = full_insight("a-1", ALICE), full_insight("b-1", BOB)
    await insight_store.add_insight(alices)
    await insight_store.add_insight(bobs)

    assert await insight_store.get_insight_any_owner("a-1") == alices
    assert await insight_store.get_insight_any_owner("b-1") == bobs


async def test_other_owner_sees_nothing_and_changes_nothing(insight_store: InsightStore) -> None:
    insight = full_insight("a-1", ALICE)
    await insight_store.add_insight(insight, audio=b"RIFF-audio")

    assert await insight_store.get_insight(BOB, "a-1") is None
    page = await insight_store.list_insights(BOB, InsightFilter(), 100, None)
    assert (page.insights, page.total_size, page.next_cursor) == ([], 0, None)
    assert await list_ids(insight_store, InsightFilter(tag="zeta"), owner_id=BOB) == []
    hijacked = dataclasses.replace(insight, owner_id=BOB, text="taken over", version=8)
    assert await insight_store.replace_insight(hijacked, insight.version) is False
    assert await insight_store.delete_insight(BOB, "a-1") is False

    assert await insight_store.get_insight(ALICE, "a-1") == insight
    assert await insight_store.get_insight_any_owner("a-1") == insight
    assert await insight_store.get_audio("a-1") == b"RIFF-audio"
    assert await list_ids(insight_store) == ["a-1"]


async def test_audio_is_stored_and_returned(insight_store: InsightStore) -> None:
    data = bytes(range(256)) * 64 + b"\x00\x00tail"
    await insight_store.add_insight(full_insight("voice-1"), audio=data)
    await insight_store.add_insight(make_insight("text-1"))

    assert await insight_store.get_audio("voice-1") == data
    assert await insight_store.get_audio("text-1") is None
    assert await insight_store.get_audio("unknown") is None


# --- listing ---


async def test_list_is_newest_first_with_ties_broken_by_id(insight_store: InsightStore) -> None:
    for insight_id, seconds in [("b", 5), ("a", 5), ("c", 5), ("old", 1), ("new", 9), ("d", 0)]:
        await insight_store.add_insight(make_insight(insight_id, created=at(seconds)))

    assert await list_ids(insight_store) == ["new", "c", "b", "a", "old", "d"]


async def test_list_orders_by_microseconds(insight_store: InsightStore) -> None:
    await insight_store.add_insight(make_insight("z-older", created=at(0.000001)))
    await insight_store.add_insight(make_insight("a-newer", created=at(0.000002)))

    assert await list_ids(insight_store) == ["a-newer", "z-older"]


@pytest.fixture()
async def filter_store(insight_store: InsightStore) -> InsightStore:
    audio = AudioInfo("audio/wav", 1000, 1.0)
    rows = [
        make_insight(
            "i1",
            created=at(0),
            text="Apple opens a research lab in Berlin",
            tags=("work", "berlin"),
            theme="Research",
            status=Status.READY,
        ),
        make_insight("i2", created=at(1), text="Grocery list: bread, milk", tags=("home",)),
        make_insight(
            "i3",
            created=at(2),
            text="Voice note about the LAB budget",
            tags=("work",),
            theme="Budget",
            status=Status.PROCESSING,
            source=Source.AUDIO,
            audio=audio,
        ),
        make_insight(
            "i4",
            created=at(3),
            text="I am 100% sure the lab_test passed",
            tags=("workshop",),
            theme="Ideas",
            status=Status.FAILED,
        ),
        make_insight(
            "i5",
            created=at(4),
            text="I am 100 sure the labxtest passed",
            status=Status.READY,
        ),
        # Another owner's insight matching every filter: must never show up for ALICE.
        make_insight(
            "b1",
            owner_id=BOB,
            created=at(2),
            text="research lab work 100% lab_test Apple bread",
            tags=("work", "home", "berlin"),
            theme="Research",
            status=Status.READY,
        ),
    ]
    for row in rows:
        await insight_store.add_insight(row)
    return insight_store


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param(InsightFilter(), ["i5", "i4", "i3", "i2", "i1"], id="no-filter"),
        pytest.param(InsightFilter(tag="work"), ["i3", "i1"], id="tag"),
        pytest.param(InsightFilter(tag="berlin"), ["i1"], id="tag-second-of-two"),
        pytest.param(InsightFilter(tag="nothing"), [], id="tag-unknown"),
        pytest.param(InsightFilter(theme="Research"), ["i1"], id="theme"),
        pytest.param(InsightFilter(status=Status.PENDING), ["i2"], id="status-pending"),
        pytest.param(InsightFilter(status=Status.READY), ["i5", "i1"], id="status-ready"),
        pytest.param(InsightFilter(status=Status.PROCESSING), ["i3"], id="status-processing"),
        pytest.param(InsightFilter(status=Status.FAILED), ["i4"], id="status-failed"),
        pytest.param(InsightFilter(source=Source.AUDIO), ["i3"], id="source-audio"),
        pytest.param(InsightFilter(source=Source.TEXT), ["i5", "i4", "i2", "i1"], id="source-text"),
        pytest.param(InsightFilter(created_after=at(2)), ["i5", "i4", "i3"], id="after-inclusive"),
        pytest.param(
            InsightFilter(created_after=at(2) + dt.timedelta(microseconds=1)),
            ["i5", "i4"],
            id="after-one-microsecond-later",
        ),
        pytest.param(InsightFilter(created_before=at(2)), ["i2", "i1"], id="before-exclusive"),
        pytest.param(
            InsightFilter(created_before=at(2) + dt.timedelta(microseconds=1)),
            ["i3", "i2", "i1"],
            id="before-one-microsecond-later",
        ),
        pytest.param(
            InsightFilter(created_after=at(1), created_before=at(3)), ["i3", "i2"], id="range"
        ),
        pytest.param(InsightFilter(query="lab"), ["i5", "i4", "i3", "i1"], id="query-word"),
        pytest.param(InsightFilter(query="LAB"), ["i5", "i4", "i3", "i1"], id="query-upper"),
        pytest.param(InsightFilter(query="Budget lab"), ["i3"], id="query-all-words"),
        pytest.param(InsightFilter(query="  research   LAB "), ["i1"], id="query-spaces"),
        pytest.param(InsightFilter(query="lab milk"), [], id="query-one-word-missing"),
        pytest.param(InsightFilter(query="100%"), ["i4"], id="query-percent-literal"),
        pytest.param(InsightFilter(query="lab_test"), ["i4"], id="query-underscore-literal"),
        pytest.param(InsightFilter(query="   "), ["i5", "i4", "i3", "i2", "i1"], id="query-blank"),
        pytest.param(
            InsightFilter(tag="work", status=Status.READY, query="apple"), ["i1"], id="combined"
        ),
        pytest.param(
            InsightFilter(tag="work", source=Source.TEXT, theme="Budget"), [], id="combined-none"
        ),
    ],
)
async def test_list_filters(
    filter_store: InsightStore, where: InsightFilter, expected: list[str]
) -> None:
    page = await filter_store.list_insights(ALICE, where, 100, None)

    assert [insight.id for insight in page.insights] == expected
    assert page.total_size == len(expected)
    assert page.next_cursor is None


@pytest.mark.parametrize("query", ["%", "_", "%%", "l%b", "l_b"])
async def test_query_wildcards_match_only_literally(filter_store: InsightStore, query: str) -> None:
    # Only i4 contains '%' and '_'; none contains "l%b" or "l_b" literally.
    expected = {"%": {"i4"}, "_": {"i4"}, "%%": set(), "l%b": set(), "l_b": set()}[query]

    assert set(await list_ids(filter_store, InsightFilter(query=query))) <= expected


async def test_query_is_case_insensitive_beyond_ascii(insight_store: InsightStore) -> None:
    await insight_store.add_insight(make_insight("u1", text="Überraschung in MÜNCHEN"))

    assert await list_ids(insight_store, InsightFilter(query="überraschung münchen")) == ["u1"]


async def test_pagination_walks_every_item_exactly_once(insight_store: InsightStore) -> None:
    expected: list[tuple[dt.datetime, str]] = []
    for n in range(23):
        # Groups of three share a timestamp, so pages end in the middle of ties.
        created = at(n // 3)
        insight_id = f"p{(n * 7) % 23:02d}"
        await insight_store.add_insight(make_insight(insight_id, created=created))
        expected.append((created, insight_id))
    await insight_store.add_insight(make_insight("bobs", owner_id=BOB, created=at(3)))
    expected_ids = [insight_id for _, insight_id in sorted(expected, reverse=True)]

    seen: list[str] = []
    cursor: PageCursor | None = None
    for _ in range(20):
        page = await insight_store.list_insights(ALICE, InsightFilter(), 4, cursor)
        assert page.total_size == 23
        assert len(page.insights) <= 4
        seen += [insight.id for insight in page.insights]
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.insights) == 4
    assert cursor is None, "pagination did not end"
    assert seen == expected_ids


async def test_pagination_with_filter_counts_matches_only(insight_store: InsightStore) -> None:
    for n in range(10):
        tags = ("even",) if n % 2 == 0 else ("odd",)
        await insight_store.add_insight(make_insight(f"f{n}", created=at(n % 4), tags=tags))
    where = InsightFilter(tag="even")

    first = await insight_store.list_insights(ALICE, where, 3, None)
    assert first.total_size == 5
    assert first.next_cursor is not None
    second = await insight_store.list_insights(ALICE, where, 3, first.next_cursor)

    assert second.total_size == 5
    assert second.next_cursor is None
    ids = [i.id for i in first.insights + second.insights]
    assert sorted(ids) == ["f0", "f2", "f4", "f6", "f8"]
    assert ids == ["f6", "f2", "f8", "f4", "f0"]  # created at 2, 2, 0, 0, 0; ties by id desc


async def test_page_exactly_full_has_no_next_cursor(insight_store: InsightStore) -> None:
    for n in range(4):
        await insight_store.add_insight(make_insight(f"x{n}", created=at(n)))

    page = await insight_store.list_insights(ALICE, InsightFilter(), 4, None)

    assert len(page.insights) == 4
    assert page.next_cursor is None


# --- replace, delete ---


async def test_replace_insight_compare_and_set(insight_store: InsightStore) -> None:
    original = full_insight("r-1")
    await insight_store.add_insight(original)
    edited = dataclasses.replace(
        original,
        text="edited text",
        tags=("new-tag", "zeta"),
        status=Status.PENDING,
        entities=(),
        keywords=(),
        theme="",
        theme_confidence=0.0,
        theme_set_by_person=False,
        version=original.version + 1,
        update_time=original.update_time + dt.timedelta(microseconds=3),
    )

    assert await insight_store.replace_insight(edited, original.version) is True

    assert await insight_store.get_insight(ALICE, "r-1") == edited
    assert await list_ids(insight_store, InsightFilter(tag="alpha")) == []
    assert await list_ids(insight_store, InsightFilter(tag="new-tag")) == ["r-1"]
    assert await list_ids(insight_store, InsightFilter(tag="zeta")) == ["r-1"]


async def test_replace_with_stale_version_changes_nothing(insight_store: InsightStore) -> None:
    original = full_insight("r-1")
    await insight_store.add_insight(original)
    current = dataclasses.replace(original, text="second", version=original.version + 1)
    assert await insight_store.replace_insight(current, original.version) is True
    stale = dataclasses.replace(
        original, text="lost update", tags=("stale",), version=original.version + 1
    )

    assert await insight_store.replace_insight(stale, original.version) is False

    assert await insight_store.get_insight(ALICE, "r-1") == current
    assert await list_ids(insight_store, InsightFilter(tag="stale")) == []
    assert await list_ids(insight_store, InsightFilter(tag="zeta")) == ["r-1"]


async def test_replace_unknown_insight_is_false(insight_store: InsightStore) -> None:
    assert await insight_store.replace_insight(full_insight("ghost"), 7) is False
    assert await insight_store.get_insight_any_owner("ghost") is None


async def test_delete_removes_insight_tags_and_audio(insight_store: InsightStore) -> None:
    await insight_store.add_insight(full_insight("d-1"), audio=b"voice")
    await insight_store.add_insight(make_insight("keep", tags=("zeta",)), audio=b"kept")

    assert await insight_store.delete_insight(ALICE, "d-1") is True

    assert await insight_store.get_insight(ALICE, "d-1") is None
    assert await insight_store.get_insight_any_owner("d-1") is None
    assert await insight_store.get_audio("d-1") is None
    assert await list_ids(insight_store) == ["keep"]
    assert await insight_store.delete_insight(ALICE, "d-1") is False
    # Re-adding the id without tags or audio must not revive the deleted insight's tags or audio.
    await insight_store.add_insight(make_insight("d-1", created=at(100)))
    assert await list_ids(insight_store, InsightFilter(tag="alpha")) == []
    assert await list_ids(insight_store, InsightFilter(tag="zeta")) == ["keep"]
    assert await insight_store.get_audio("d-1") is None
    assert await insight_store.get_audio("keep") == b"kept"


# --- the sweeper's query ---


async def test_list_stale_returns_old_pending_and_processing_only(
    insight_store: InsightStore,
) -> None:
    cutoff = at(100)
    rows = [
        ("old-pending", Status.PENDING, at(10), 3),
        ("old-processing", Status.PROCESSING, at(99.999999), 4),
        ("old-ready", Status.READY, at(10), 1),
        ("old-failed", Status.FAILED, at(10), 1),
        ("at-cutoff", Status.PENDING, cutoff, 1),
        ("new-pending", Status.PENDING, at(200), 1),
    ]
    for insight_id, status, updated, version in rows:
        await insight_store.add_insight(
            make_insight(
                insight_id, created=at(0), status=status, update_time=updated, version=version
            )
        )

    stale = await insight_store.list_stale(to_micros(cutoff), 100)

    assert sorted(stale) == [("old-pending", 3), ("old-processing", 4)]


async def test_list_stale_respects_limit_and_other_owners(insight_store: InsightStore) -> None:
    for n in range(5):
        owner = ALICE if n % 2 else BOB
        await insight_store.add_insight(make_insight(f"s{n}", owner_id=owner, created=at(n)))

    everything = await insight_store.list_stale(to_micros(at(1000)), 100)
    limited = await insight_store.list_stale(to_micros(at(1000)), 2)

    assert sorted(everything) == [(f"s{n}", 1) for n in range(5)]
    assert len(limited) == 2
    assert set(limited) <= set(everything)


# --- durability across reopen ---


async def test_reopening_keeps_data(insight_store: InsightStore, reopen_store: ReopenStore) -> None:
    user = await insight_store.add_user(account("u-1", "ada@example.com"))
    insight = full_insight("kept")
    await insight_store.add_insight(insight, audio=b"voice bytes")
    await insight_store.close()

    reopened = await reopen_store()
    # Opening again runs the schema setup again: it must be idempotent.
    await reopened.close()
    again = await reopen_store()

    assert await again.get_insight(ALICE, "kept") == insight
    assert await again.get_audio("kept") == b"voice bytes"
    assert await list_ids(again, InsightFilter(tag="mid")) == ["kept"]
    found = await again.find_credentials("ada@example.com")
    assert found is not None
    assert found[0] == user
    with pytest.raises(AlreadyExists):
        await again.add_user(account("u-2", "ada@example.com"))


async def test_a_delete_leaves_a_graph_removal_until_forgotten(insight_store: InsightStore) -> None:
    await insight_store.add_insight(make_insight("gone", owner_id=ALICE))
    await insight_store.add_insight(make_insight("kept", owner_id=ALICE))
    assert await insight_store.pending_graph_removals(10) == []

    assert await insight_store.delete_insight(ALICE, "gone")
    assert not await insight_store.delete_insight(BOB, "kept")  # not Bob's: nothing recorded
    assert await insight_store.pending_graph_removals(10) == [("gone", ALICE)]

    await insight_store.forget_graph_removal("gone")
    assert await insight_store.pending_graph_removals(10) == []


# --- no value is ever read as a query operator or a pattern ---

HOSTILE = ['{"$ne": ""}', '{"$gt": ""}', "$where", "$ne", ".*", "^", "a|b", "[a-z]", "\\", "(?i)"]


@pytest.fixture()
async def hostile_store(insight_store: InsightStore) -> InsightStore:
    await insight_store.add_insight(
        make_insight("plain", created=at(0), text="an ordinary note", tags=("work",), theme="Work")
    )
    for n, value in enumerate(HOSTILE):
        await insight_store.add_insight(
            make_insight(
                f"h{n}", created=at(n + 1), text=f"literal {value} here", tags=(value,), theme=value
            )
        )
    return insight_store


@pytest.mark.parametrize("value", HOSTILE)
async def test_tag_and_theme_match_only_literally(hostile_store: InsightStore, value: str) -> None:
    expected = [f"h{HOSTILE.index(value)}"]

    assert await list_ids(hostile_store, InsightFilter(tag=value)) == expected
    assert await list_ids(hostile_store, InsightFilter(theme=value)) == expected


@pytest.mark.parametrize("value", HOSTILE)
async def test_query_word_matches_only_literally(hostile_store: InsightStore, value: str) -> None:
    # Every hostile value is one word; only the insight whose text holds it literally matches
    # (and for "^", "\\" and "$ne" also those whose value contains it).
    expected = {f"h{n}" for n, other in enumerate(HOSTILE) if value.casefold() in other.casefold()}

    assert set(await list_ids(hostile_store, InsightFilter(query=value))) == expected


@pytest.mark.parametrize(
    "query", ['{"$ne":', "$where:", ".", "*", "?", "(", ")", "+", "\x00", "\\d"]
)
async def test_query_metacharacters_match_nothing_absent(
    hostile_store: InsightStore, query: str
) -> None:
    expected = {
        f"h{n}" for n, value in enumerate(HOSTILE) if query in f"literal {value} here".casefold()
    }

    assert set(await list_ids(hostile_store, InsightFilter(query=query))) == expected


@pytest.mark.parametrize(
    "email", ['{"$ne": ""}', "$where", ".*", "ada@example.com.*", "ADA@example.com"]
)
async def test_email_lookup_is_literal(insight_store: InsightStore, email: str) -> None:
    await insight_store.add_user(account("u-1", "ada@example.com"))

    assert await insight_store.find_credentials(email) is None


async def test_hostile_email_is_stored_and_found_literally(insight_store: InsightStore) -> None:
    await insight_store.add_user(account("u-1", '{"$ne": ""}'))
    await insight_store.add_user(account("u-2", "ada@example.com"))

    found = await insight_store.find_credentials('{"$ne": ""}')

    assert found is not None
    assert found[0].id == "u-1"


@pytest.mark.parametrize("insight_id", ['{"$ne": ""}', "$where", ".*"])
async def test_hostile_ids_address_nothing_else(
    insight_store: InsightStore, insight_id: str
) -> None:
    await insight_store.add_insight(make_insight("real"), audio=b"voice")

    assert await insight_store.get_insight(ALICE, insight_id) is None
    assert await insight_store.get_insight_any_owner(insight_id) is None
    assert await insight_store.get_audio(insight_id) is None
    assert await insight_store.delete_insight(ALICE, insight_id) is False
    assert await insight_store.get_insight(ALICE, "real") is not None
    assert await list_ids(insight_store, owner_id='{"$ne": ""}') == []


# --- a voice note as large as the API allows ---


async def test_large_audio_round_trips(insight_store: InsightStore) -> None:
    # 25 MB: more than one 16 MiB document can hold, and not a multiple of any chunk size.
    data = bytes(range(251)) * (25_000_000 // 251) + b"end"
    await insight_store.add_insight(full_insight("big"), audio=data)

    assert await insight_store.get_audio("big") == data
    assert await insight_store.delete_insight(ALICE, "big") is True
    assert await insight_store.get_audio("big") is None


async def test_concurrent_compare_and_sets_let_exactly_one_win(insight_store: InsightStore) -> None:
    base = make_insight("race", owner_id=ALICE)
    await insight_store.add_insight(base)
    contenders = [
        dataclasses.replace(base, tags=(f"t{n}",), version=base.version + 1) for n in range(8)
    ]
    results = await asyncio.gather(
        *(insight_store.replace_insight(c, base.version) for c in contenders)
    )
    assert sum(results) == 1
    stored = await insight_store.get_insight(ALICE, "race")
    assert stored is not None and stored.version == base.version + 1
    assert stored.tags == contenders[results.index(True)].tags
