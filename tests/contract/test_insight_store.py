"""The InsightStore contract: every adapter must pass this one suite (see conftest.BACKENDS).
Listing, filters and hostile input are in test_insight_store_queries.py."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from services.common.clock import to_micros
from services.common.errors import AlreadyExists
from services.insight.domain.models import (
    InsightFilter,
    Status,
)
from services.insight.store.port import InsightStore
from tests.contract.conftest import ReopenStore
from tests.contract.insight_samples import (
    ALICE,
    BOB,
    account,
    at,
    full_insight,
    list_ids,
    make_insight,
)

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
