"""What the graph domain needs from the outside world, besides its store."""

from __future__ import annotations

from typing import Protocol

from services.graph.domain.models import InsightSummary


class InsightDirectory(Protocol):
    async def find(self, insight_id: str, authorization: str) -> InsightSummary | None:
        """The insight as its owner sees it, asked with the caller's own credential
        (`authorization` is opaque here: the caller's `Bearer ...` header). None when it does not
        exist or is not the caller's; raises Unavailable when the insight service is down."""
