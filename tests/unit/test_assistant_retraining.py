"""The nightly retraining task: who is due."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.assistant.domain.models import Feedback, JobStatus, ThemeExample
from services.assistant.domain.retraining import RetrainPlanner
from services.assistant.domain.trainer import examples_digest
from services.assistant.domain.training import TrainingService
from tests.unit.test_assistant_fakes import FakeInsights, FakeQueue, MemoryStore

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
EXAMPLES = [ThemeExample("i1", "a", "Rust"), ThemeExample("i2", "b", "Gardening")]


async def test_owners_with_new_feedback_or_new_corrections_are_retrained() -> None:
    store, queue = MemoryStore(), FakeQueue()
    insights = FakeInsights(examples={"ann": list(EXAMPLES), "bob": list(EXAMPLES)})
    training = TrainingService(store, queue, now=lambda: NOW)
    planner = RetrainPlanner(store, insights, training)
    earlier = NOW - dt.timedelta(days=1)
    await store.add_feedback("ann", Feedback("s", "TAG", "rust", False, earlier))
    assert await planner.retrain_due() == ["ann"]  # feedback, never trained
    assert await planner.retrain_due() == []  # ann's job is still queued

    for job in list(store.jobs.values()):  # the job ran and saw the current examples
        store.jobs[job.id] = dataclasses.replace(
            job, status=JobStatus.SUCCEEDED, examples_digest=examples_digest(EXAMPLES)
        )
    assert await planner.retrain_due() == []  # nothing new since
    insights.examples["ann"].append(ThemeExample("i3", "c", "Investing"))
    assert await planner.retrain_due() == ["ann"]
    assert [owner for _, owner in queue.queued] == ["ann", "ann"]
