"""Fixtures of the InsightStore contract suite: one suite, run against every adapter.

To run the suite against another adapter, add one `BackendSpec` to `BACKENDS`: a name, a factory
that provides the adapter's backing storage for one test (and cleans it up afterwards), and the
marks the adapter needs (for example `pytest.mark.mongo` for one that needs a running engine).
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import pytest
from pymongo import AsyncMongoClient

from services.insight.store.mongo import MongoInsightStore
from services.insight.store.port import InsightStore
from services.insight.store.sqlite import SqliteInsightStore
from tests.engines import shared_ferretdb_uri


class StoreBackend(Protocol):
    """The backing storage of one test: every store it makes sees the same data."""

    def new_store(self) -> InsightStore:
        """A new, not yet opened, store over this backing storage."""


BackendFactory = Callable[[pathlib.Path], AbstractAsyncContextManager[StoreBackend]]


@dataclass(frozen=True)
class BackendSpec:
    name: str
    factory: BackendFactory
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


@dataclass(frozen=True)
class SqliteBackend:
    path: pathlib.Path

    def new_store(self) -> InsightStore:
        return SqliteInsightStore(self.path)


@asynccontextmanager
async def sqlite_backend(tmp_path: pathlib.Path) -> AsyncIterator[StoreBackend]:
    yield SqliteBackend(tmp_path / "store" / "insights.db")


@dataclass(frozen=True)
class MongoBackend:
    uri: str
    database: str

    def new_store(self) -> InsightStore:
        return MongoInsightStore(self.uri, self.database)


@asynccontextmanager
async def mongo_backend(tmp_path: pathlib.Path) -> AsyncIterator[StoreBackend]:
    """A fresh database of the session's FerretDB (started on first use), dropped afterwards."""
    uri = shared_ferretdb_uri()
    database = f"contract_{uuid.uuid4().hex[:16]}"
    try:
        yield MongoBackend(uri, database)
    finally:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
        try:
            await client.drop_database(database)
        finally:
            await client.close()


BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec("sqlite", sqlite_backend),
    BackendSpec("mongo", mongo_backend, marks=(pytest.mark.mongo,)),
)
_BY_NAME = {spec.name: spec for spec in BACKENDS}
_BACKEND_KEY = pytest.StashKey[StoreBackend]()

# Opens a second store over the same storage as `insight_store` (closed after the test).
ReopenStore = Callable[[], Awaitable[InsightStore]]


@pytest.fixture(params=[pytest.param(spec.name, marks=spec.marks) for spec in BACKENDS])
async def insight_store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[InsightStore]:
    spec = _BY_NAME[str(request.param)]
    async with spec.factory(tmp_path) as backend:
        request.node.stash[_BACKEND_KEY] = backend
        store = backend.new_store()
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture()
async def reopen_store(
    request: pytest.FixtureRequest, insight_store: InsightStore
) -> AsyncIterator[ReopenStore]:
    backend: StoreBackend = request.node.stash[_BACKEND_KEY]
    opened: list[InsightStore] = []

    async def reopen() -> InsightStore:
        store = backend.new_store()
        await store.open()
        opened.append(store)
        return store

    yield reopen
    for store in opened:
        await store.close()


@pytest.fixture()
def backend_name(request: pytest.FixtureRequest, insight_store: InsightStore) -> str:
    """The name of the adapter under test, for adapter-specific known-bug marks."""
    return str(request.node.callspec.params["insight_store"])
