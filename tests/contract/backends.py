"""What the store contract suites share (InsightStore in conftest.py, GraphStore in
graph_backends.py): a backend spec — a name, a factory of one test's backing storage (cleaned up
afterwards) and the marks it needs — and the bodies of the two fixtures each suite declares: the
store under test, opened on each backend in turn, and a way to open a second store over the same
storage (as another process, or the same one after a restart, would)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import pytest


class OpenableStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...


StoreT = TypeVar("StoreT", bound=OpenableStore)
StoreT_co = TypeVar("StoreT_co", bound=OpenableStore, covariant=True)


class Backend(Protocol[StoreT_co]):
    """The backing storage of one test: every store it makes sees the same data."""

    def new_store(self) -> StoreT_co:
        """A new, not yet opened, store over this backing storage."""


@dataclass(frozen=True)
class BackendSpec(Generic[StoreT]):
    name: str
    factory: Callable[[pathlib.Path], AbstractAsyncContextManager[Backend[StoreT]]]
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


# Opens a second store over the same storage as the store under test (closed after the test).
Reopen = Callable[[], Awaitable[StoreT]]
_BACKEND_KEY = pytest.StashKey[Any]()


def backend_params(specs: Sequence[BackendSpec[Any]]) -> list[Any]:
    return [pytest.param(spec.name, marks=spec.marks) for spec in specs]


async def store_on_backend(
    specs: Sequence[BackendSpec[StoreT]], request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[StoreT]:
    """The body of a suite's parametrised store fixture (request.param names the backend)."""
    spec = next(s for s in specs if s.name == request.param)
    async with spec.factory(tmp_path) as backend:
        request.node.stash[_BACKEND_KEY] = backend
        store = backend.new_store()
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@asynccontextmanager
async def reopener(request: pytest.FixtureRequest) -> AsyncIterator[Reopen[Any]]:
    """The body of a suite's reopen fixture; it must depend on the suite's store fixture."""
    backend: Backend[OpenableStore] = request.node.stash[_BACKEND_KEY]
    opened: list[OpenableStore] = []

    async def reopen() -> OpenableStore:
        store = backend.new_store()
        await store.open()
        opened.append(store)
        return store

    try:
        yield reopen
    finally:
        for store in opened:
            await store.close()
