"""The InsightStore contract, its queries: listing order, filters, pagination, and input that
must never be read as a query operator or a pattern. Every adapter must pass it."""

from __future__ import annotations

import datetime as dt

import pytest

from services.insight.domain.models import (
    AudioInfo,
    InsightFilter,
    PageCursor,
    Source,
    Status,
)
from services.insight.store.port import InsightStore
from tests.contract.insight_samples import (
    ALICE,
    BOB,
    account,
    at,
    list_ids,
    make_insight,
)

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
        # Insights close in meaning join those with every word, newest first as ever.
        pytest.param(
            InsightFilter(query="bread baking", meaning_matches=frozenset({"i2"})),
            ["i2"],
            id="meaning-only",
        ),
        pytest.param(
            InsightFilter(query="research", meaning_matches=frozenset({"i5", "i3"})),
            ["i5", "i3", "i1"],
            id="meaning-or-words",
        ),
        pytest.param(
            InsightFilter(query="lab", meaning_matches=frozenset({"i1", "i2"})),
            ["i5", "i4", "i3", "i2", "i1"],
            id="meaning-overlapping-words",
        ),
        pytest.param(
            InsightFilter(query="research", meaning_matches=frozenset({"i5", "i3"}), tag="work"),
            ["i3", "i1"],
            id="meaning-and-other-filters",
        ),
        # Another owner's id, or one that does not exist, admits nothing.
        pytest.param(
            InsightFilter(query="nothing here", meaning_matches=frozenset({"b1", "ghost"})),
            [],
            id="meaning-other-owner",
        ),
        # Meaning matches refine a query; with no query they are not a filter of their own.
        pytest.param(
            InsightFilter(meaning_matches=frozenset({"i1"})),
            ["i5", "i4", "i3", "i2", "i1"],
            id="meaning-without-query",
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
