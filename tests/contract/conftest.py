"""Fixtures of the InsightStore contract suite: one suite, run against every adapter.

To run the suite against another adapter, add one `BackendSpec` (tests/contract/backends.py) to
`BACKENDS`: a name, a factory that provides the adapter's backing storage for one test (and cleans
it up afterwards), and the marks the adapter needs (for example `pytest.mark.mongo` for one that
needs a running engine).
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from pymongo import AsyncMongoClient

from services.insight.store.mongo import MongoInsightStore
from services.insight.store.port import InsightStore
from services.insight.store.sqlite import SqliteInsightStore
from tests.contract.backends import (
    Backend,
    BackendSpec,
    Reopen,
    backend_params,
    reopener,
    store_on_backend,
)
from tests.engines import shared_ferretdb_uri

StoreBackend = Backend[InsightStore]


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


BACKENDS: tuple[BackendSpec[InsightStore], ...] = (
    BackendSpec("sqlite", sqlite_backend),
    BackendSpec("mongo", mongo_backend, marks=(pytest.mark.mongo,)),
)
ReopenStore = Reopen[InsightStore]


@pytest.fixture(params=backend_params(BACKENDS))
async def insight_store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[InsightStore]:
    async for store in store_on_backend(BACKENDS, request, tmp_path):
        yield store


@pytest.fixture()
async def reopen_store(
    request: pytest.FixtureRequest, insight_store: InsightStore
) -> AsyncIterator[ReopenStore]:
    async with reopener(request) as reopen:
        yield reopen


@pytest.fixture()
def backend_name(request: pytest.FixtureRequest, insight_store: InsightStore) -> str:
    """The name of the adapter under test, for adapter-specific known-bug marks."""
    return str(request.node.callspec.params["insight_store"])
