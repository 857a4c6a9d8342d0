"""Fixtures of InsightManager's unit tests: a manager over the in-memory world of world.py."""

from __future__ import annotations

import pytest

from services.insight.domain.insights import InsightManager
from tests.unit.insight_manager.world import FakeChanges, FakeQueue, FakeStore


@pytest.fixture()
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture()
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture()
def changes() -> FakeChanges:
    return FakeChanges()


@pytest.fixture()
def manager(store: FakeStore, queue: FakeQueue, changes: FakeChanges) -> InsightManager:
    return InsightManager(store, queue, changes)
