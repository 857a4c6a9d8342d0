"""Fixtures of the GraphStore contract suite: one suite, run against every adapter.

To run the suite against another adapter, add one `BackendSpec` (tests/contract/backends.py) to
`GRAPH_BACKENDS`: a name, a factory that provides the adapter's backing storage for one test (and
cleans it up afterwards), and the marks it needs (e.g. `pytest.mark.neo4j`).
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from services.graph.store.neo4j import Neo4jGraphStore
from services.graph.store.port import GraphStore
from services.graph.store.sqlite import SqliteGraphStore
from tests.contract.backends import (
    Backend,
    BackendSpec,
    Reopen,
    backend_params,
    reopener,
    store_on_backend,
)
from tests.engines import clear_neo4j, shared_neo4j_uri

GraphBackend = Backend[GraphStore]


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


GRAPH_BACKENDS: tuple[BackendSpec[GraphStore], ...] = (
    BackendSpec("sqlite", sqlite_graph_backend),
    BackendSpec("neo4j", neo4j_graph_backend, marks=(pytest.mark.neo4j,)),
)
ReopenGraphStore = Reopen[GraphStore]


@pytest.fixture(params=backend_params(GRAPH_BACKENDS))
async def graph_store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[GraphStore]:
    async for store in store_on_backend(GRAPH_BACKENDS, request, tmp_path):
        yield store


@pytest.fixture()
async def reopen_graph_store(
    request: pytest.FixtureRequest, graph_store: GraphStore
) -> AsyncIterator[ReopenGraphStore]:
    async with reopener(request) as reopen:
        yield reopen
