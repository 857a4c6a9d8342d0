"""Fixtures of the GraphStore contract suite: one suite, run against every adapter.

To run the suite against another adapter, add one `GraphBackendSpec` to
`GRAPH_BACKENDS`: a name, a factory that provides the adapter's backing storage for one test (and
cleans it up afterwards), and the marks it needs (e.g. `pytest.mark.neo4j`).
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from services.graph.store.neo4j import Neo4jGraphStore
from services.graph.store.port import GraphStore
from services.graph.store.sqlite import SqliteGraphStore
from tests.engines import clear_neo4j, shared_neo4j_uri


class GraphBackend(Protocol):
    """The backing storage of one test: every store it makes sees the same data."""

    def new_store(self) -> GraphStore:
        """A new, not yet opened, store over this backing storage."""


GraphBackendFactory = Callable[[pathlib.Path], AbstractAsyncContextManager[GraphBackend]]


@dataclass(frozen=True)
class GraphBackendSpec:
    name: str
    factory: GraphBackendFactory
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


@dataclass(frozen=True)
class SqliteGraphBackend:
    path: pathlib.Path

    def new_store(self) -> GraphStore:
        return SqliteGraphStore(self.path)


@asynccontextmanager
async def sqlite_graph_backend(tmp_path: pathlib.Path) -> AsyncIterator[GraphBackend]:
    yield SqliteGraphBackend(tmp_path / "store" / "graph.sqlite3")


# The dimension of the contract suite's vectors (test_graph_store.vec).
NEO4J_TEST_DIMENSIONS = 8


@dataclass(frozen=True)
class Neo4jGraphBackend:
    uri: str

    def new_store(self) -> GraphStore:
        return Neo4jGraphStore(self.uri, dimensions=NEO4J_TEST_DIMENSIONS)


@asynccontextmanager
async def neo4j_graph_backend(tmp_path: pathlib.Path) -> AsyncIterator[GraphBackend]:
    """The session's Neo4j (started on first use), emptied before and after the test: Community
    has a single user database, so tests share it one after another."""
    uri = shared_neo4j_uri()
    clear_neo4j(uri)
    try:
        yield Neo4jGraphBackend(uri)
    finally:
        clear_neo4j(uri)


GRAPH_BACKENDS: tuple[GraphBackendSpec, ...] = (
    GraphBackendSpec("sqlite", sqlite_graph_backend),
    GraphBackendSpec("neo4j", neo4j_graph_backend, marks=(pytest.mark.neo4j,)),
)
_BY_NAME = {spec.name: spec for spec in GRAPH_BACKENDS}
_BACKEND_KEY = pytest.StashKey[GraphBackend]()

# Opens a second store over the same storage as `graph_store` (closed after the test).
ReopenGraphStore = Callable[[], Awaitable[GraphStore]]


@pytest.fixture(params=[pytest.param(spec.name, marks=spec.marks) for spec in GRAPH_BACKENDS])
async def graph_store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[GraphStore]:
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
async def reopen_graph_store(
    request: pytest.FixtureRequest, graph_store: GraphStore
) -> AsyncIterator[ReopenGraphStore]:
    backend: GraphBackend = request.node.stash[_BACKEND_KEY]
    opened: list[GraphStore] = []

    async def reopen() -> GraphStore:
        store = backend.new_store()
        await store.open()
        opened.append(store)
        return store

    yield reopen
    for store in opened:
        await store.close()
