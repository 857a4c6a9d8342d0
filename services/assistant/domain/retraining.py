"""The nightly retraining task: who has something new to learn from since their last training.

An owner is due when they have no unfinished job and either gave suggestion feedback since their
last training started, or their theme corrections changed (compared by digest with what the last
training used). Only owners the assistant knows (with feedback or a past job) are considered: a
person who never used the assistant has no model to keep fresh.
"""

from __future__ import annotations

import logging

from services.assistant.domain.ports import InsightDirectory, TrainingJobStore
from services.assistant.domain.trainer import MAX_EXAMPLES, examples_digest
from services.assistant.domain.training import TrainingService
from services.common.clock import to_micros
from services.common.errors import Unavailable

log = logging.getLogger(__name__)


class RetrainPlanner:
    def __init__(
        self, jobs: TrainingJobStore, insights: InsightDirectory, training: TrainingService
    ) -> None:
        self._jobs = jobs
        self._insights = insights
        self._training = training

    async def is_due(self, owner_id: str) -> bool:
        if await self._jobs.unfinished_job(owner_id) is not None:
            return False
        last = await self._jobs.latest_finished_job(owner_id)
        since = to_micros(last.create_time) if last is not None else 0
        if await self._jobs.feedback_since(owner_id, since) > 0:
            return True
        if last is None:
            return False
        examples = await self._insights.theme_examples(owner_id, MAX_EXAMPLES)
        return examples_digest(examples) != last.examples_digest

    async def retrain_due(self) -> list[str]:
        """Queues a training job for every owner who is due; returns who was queued."""
        queued = []
        for owner_id in await self._jobs.known_owners():
            try:
                if await self.is_due(owner_id):
                    await self._training.start(owner_id)
                    queued.append(owner_id)
            except Unavailable:
                log.warning("could not check or queue retraining", extra={"owner_id": owner_id})
        return queued
