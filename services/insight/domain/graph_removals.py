"""Deleting an insight removes its graph node too — eventually, whatever is down at the time.

The store records each deletion in an outbox in the same transaction as the delete; this drains
it: right after a delete, and then periodically until the graph service confirms every removal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from services.common.errors import Unavailable
from services.insight.store.port import InsightStore

log = logging.getLogger(__name__)
BATCH = 100


class GraphNodes(Protocol):
    async def remove(self, insight_id: str, owner_id: str) -> None:
        """Idempotent; raises Unavailable when the graph service cannot be reached."""


class GraphRemovalOutbox:
    def __init__(self, store: InsightStore, graph: GraphNodes, interval_seconds: float) -> None:
        self._store = store
        self._graph = graph
        self._interval = interval_seconds
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Drain soon (after a delete) instead of waiting for the next interval."""
        self._wake.set()

    async def drain(self) -> int:
        removed = 0
        for insight_id, owner_id in await self._store.pending_graph_removals(BATCH):
            try:
                await self._graph.remove(insight_id, owner_id)
            except Unavailable as error:
                log.warning(
                    "graph removal postponed",
                    extra={"insight_id": insight_id, "reason": error.message},
                )
                break
            await self._store.forget_graph_removal(insight_id)
            removed += 1
        return removed

    async def run_forever(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("graph removal drain failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
