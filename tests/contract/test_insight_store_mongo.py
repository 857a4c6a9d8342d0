"""What only MongoInsightStore has: its documents, its write ordering without transactions, its
settings, and its refusal of values that are not plain strings or integers. The behaviour both
adapters share is in test_insight_store.py."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase

from gateway.processes import free_port
from services.common.errors import InvalidArgument, Unavailable
from services.insight.domain.models import InsightFilter, PageCursor
from services.insight.store.mongo import MongoInsightStore
from services.insight.store.mongo_documents import parse_read_preference, parse_write_concern
from tests.contract.insight_samples import ALICE, T0, full_insight, make_insight
from tests.engines import shared_ferretdb_uri

pytestmark = pytest.mark.mongo

Raw = AsyncDatabase[dict[str, Any]]


@dataclasses.dataclass
class Engine:
    uri: str
    database: str
    raw: Raw

    async def store(self, **options: Any) -> MongoInsightStore:
        store = MongoInsightStore(self.uri, self.database, **options)
        await store.open()
        return store


@pytest.fixture()
async def engine() -> AsyncIterator[Engine]:
    uri = shared_ferretdb_uri()
    database = f"mongo_{uuid.uuid4().hex[:16]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        yield Engine(uri, database, client[database])
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture()
async def store(engine: Engine) -> AsyncIterator[MongoInsightStore]:
    opened = await engine.store()
    yield opened
    await opened.close()


HOSTILE_VALUES: list[Any] = [{"$ne": ""}, {"$gt": ""}, {"$where": "true"}, ["a"], 1.5, b"bytes"]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_values_that_are_not_strings_are_refused(
    store: MongoInsightStore, value: Any
) -> None:
    await store.add_insight(make_insight("i-1", tags=("work",)))

    with pytest.raises(InvalidArgument):
        await store.find_credentials(value)
    with pytest.raises(InvalidArgument):
        await store.get_insight(value, "i-1")
    with pytest.raises(InvalidArgument):
        await store.get_insight(ALICE, value)
    with pytest.raises(InvalidArgument):
        await store.get_insight_any_owner(value)
    with pytest.raises(InvalidArgument):
        await store.get_audio(value)
    with pytest.raises(InvalidArgument):
        await store.delete_insight(ALICE, value)
    with pytest.raises(InvalidArgument):
        await store.forget_graph_removal(value)
    for where in (InsightFilter(tag=value), InsightFilter(theme=value), InsightFilter(query=value)):
        with pytest.raises(InvalidArgument):
            await store.list_insights(ALICE, where, 10, None)
    with pytest.raises(InvalidArgument):
        await store.list_insights(ALICE, InsightFilter(), 10, PageCursor(T0, value))
    with pytest.raises(InvalidArgument):
        await store.replace_insight(make_insight("i-1"), value)
    # Nothing changed.
    assert (await store.get_insight(ALICE, "i-1")) == make_insight("i-1", tags=("work",))
    assert await store.pending_graph_removals(10) == []


async def test_times_are_int64_microseconds_and_indexes_exist(
    store: MongoInsightStore, engine: Engine
) -> None:
    await store.add_insight(full_insight("f-1"))

    raw = await engine.raw["insights"].find_one({"_id": "f-1"})

    assert raw is not None
    assert type(raw["create_us"]) is Int64
    assert raw["create_us"] == 1_767_323_045_678_901
    assert type(raw["update_us"]) is Int64
    assert raw["text_folded"] == raw["text"].casefold()
    index_names = {
        name
        for collection in ("users", "insights", "insight_audio", "graph_removals")
        for name in await engine.raw[collection].index_information()
    }
    assert {
        "users_email",
        "insights_owner_time",
        "insights_owner_tags",
        "insights_owner_theme",
        "insights_status_update",
        "insight_audio_key_n",
        "graph_removals_time",
    } <= index_names


async def test_audio_is_split_into_chunks_and_all_go_with_the_insight(engine: Engine) -> None:
    store = await engine.store(audio_chunk_bytes=1000)
    try:
        data = bytes(range(256)) * 41  # 10 496 bytes: 10 full chunks and one of 496
        await store.add_insight(full_insight("v-1"), audio=data)
        await store.add_insight(make_insight("v-2"), audio=b"")

        assert await engine.raw["insight_audio"].count_documents({"insight_id": "v-1"}) == 11
        assert await store.get_audio("v-1") == data
        assert await store.get_audio("v-2") == b""

        assert await store.delete_insight(ALICE, "v-1") is True
        assert await engine.raw["insight_audio"].count_documents({}) == 0
        assert await store.get_audio("v-1") is None
    finally:
        await store.close()


async def test_chunks_left_by_a_failed_add_are_unreachable(
    store: MongoInsightStore, engine: Engine
) -> None:
    # A crash after the chunks but before the insight: the chunks belong to no insight.
    await engine.raw["insight_audio"].insert_one(
        {"_id": "orphan:0", "key": "orphan", "n": 0, "insight_id": "x-1", "data": b"lost"}
    )
    assert await store.get_audio("x-1") is None

    await store.add_insight(make_insight("x-1"))

    assert await store.get_audio("x-1") is None


async def test_a_failed_duplicate_add_keeps_the_first_voice_note(store: MongoInsightStore) -> None:
    await store.add_insight(make_insight("d-1"), audio=b"first")

    with pytest.raises(Exception, match="already exists"):
        await store.add_insight(make_insight("d-1"), audio=b"second")

    assert await store.get_audio("d-1") == b"first"


async def test_removal_recorded_by_a_delete_that_failed_is_not_due(
    store: MongoInsightStore, engine: Engine
) -> None:
    # A crash after the outbox record but before the delete: the insight lives on, so its graph
    # node must stay; the record becomes due once a delete succeeds.
    await store.add_insight(make_insight("alive"))
    await store.add_insight(make_insight("gone"))
    await engine.raw["graph_removals"].insert_one(
        {"_id": "alive", "owner_id": ALICE, "create_us": Int64(1)}
    )
    assert await store.delete_insight(ALICE, "gone") is True

    assert await store.pending_graph_removals(10) == [("gone", ALICE)]
    assert await store.pending_graph_removals(1) == [("gone", ALICE)]

    assert await store.delete_insight(ALICE, "alive") is True
    assert await store.pending_graph_removals(10) == [("gone", ALICE), ("alive", ALICE)]


async def test_pending_removals_respect_the_limit_in_order(store: MongoInsightStore) -> None:
    for n in range(5):
        await store.add_insight(make_insight(f"r{n}"))
        assert await store.delete_insight(ALICE, f"r{n}") is True

    assert await store.pending_graph_removals(2) == [("r0", ALICE), ("r1", ALICE)]
    assert len(await store.pending_graph_removals(100)) == 5
    assert await store.pending_graph_removals(0) == []


async def test_other_write_concern_and_read_preference_work(engine: Engine) -> None:
    store = await engine.store(write_concern="1", read_preference="primaryPreferred")
    try:
        await store.add_insight(make_insight("w-1"))
        assert await store.get_insight(ALICE, "w-1") == make_insight("w-1")
    finally:
        await store.close()


def test_settings_are_parsed_and_checked() -> None:
    assert parse_write_concern("majority") == WriteConcern(w="majority", j=True)
    assert parse_write_concern(" 2 ") == WriteConcern(w=2, j=True)
    assert parse_read_preference("secondaryPreferred").mongos_mode == "secondaryPreferred"
    with pytest.raises(ValueError, match="write concern"):
        parse_write_concern("all")
    with pytest.raises(ValueError, match="read preference"):
        parse_read_preference("fastest")
    with pytest.raises(ValueError, match="read preference"):
        MongoInsightStore("mongodb://127.0.0.1/", read_preference="SECONDARY")


async def test_unreachable_server_is_unavailable() -> None:
    store = MongoInsightStore(
        f"mongodb://127.0.0.1:{free_port()}/", server_selection_timeout_ms=300
    )

    with pytest.raises(Unavailable):
        await store.open()
    with pytest.raises(Unavailable):
        await store.get_insight(ALICE, "i-1")
