"""Feedback on links: a manual link is a positive example, a deleted automatic one a negative;
each one re-derives the owner's threshold (the rule is in threshold.py)."""

from __future__ import annotations

import logging

from services.graph.domain.models import Node
from services.graph.domain.threshold import DEFAULT_THRESHOLD, adapted_threshold
from services.graph.domain.vectors import clip01, cosine
from services.graph.store.port import GraphStore

log = logging.getLogger(__name__)


class FeedbackLearner:
    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def threshold(self, owner_id: str) -> float:
        stored = await self._store.get_threshold(owner_id)
        return DEFAULT_THRESHOLD if stored is None else stored

    async def record(self, owner_id: str, a: Node | None, b: Node | None, positive: bool) -> None:
        """Learns from the pair's similarity; a pair without both embeddings teaches nothing."""
        similarity = cosine(
            a.embedding if a else None,
            b.embedding if b else None,
        )
        if similarity is None:
            return
        stats = await self._store.add_feedback(owner_id, positive, clip01(similarity))
        threshold = adapted_threshold(stats)
        await self._store.set_threshold(owner_id, threshold)
        log.info("threshold adapted", extra={"owner_id": owner_id, "threshold": threshold})
