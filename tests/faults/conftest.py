"""One stack for the fault tests of this package (see tests/faults/support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.stack import Stack
from tests.conftest import register_and_login
from tests.faults.support import rest_client, running_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory.mktemp("stack-faults"))


# Per module, so a module with a stack of its own (another `stack` fixture) gets its client.
@pytest.fixture(scope="module")
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with rest_client(stack) as client:
        yield client


@pytest.fixture()
def person(rest: httpx.Client) -> dict[str, str]:
    return register_and_login(rest)
