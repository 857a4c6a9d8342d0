"""Training: the split, the promotion rule, and a whole job over fakes with synthetic
embeddings (three well-separated clusters), plus starting and reading jobs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from services.assistant.domain import theme_training as tt
from services.assistant.domain.models import (
    JobStatus,
    LinkScorerReport,
    ThemeExample,
    TrainingJob,
)
from services.assistant.domain.trainer import ThemeTrainer
from services.assistant.domain.training import LOST_AFTER, TrainingService
from services.common.errors import NotFound, Unavailable
from services.common.theme_models import ThemeModel
from tests.unit.test_assistant_fakes import (
    FakeAnalyzer,
    FakeIndex,
    FakeInsights,
    FakeQueue,
    FakeRegistry,
    MemoryStore,
)

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
THEMES = ("Rust", "Gardening", "Investing")


def synthetic(
    per_theme: int = 8, seed: int = 1
) -> tuple[list[ThemeExample], dict[str, list[float]]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(THEMES), 32))
    examples, vectors = [], {}
    for t, theme in enumerate(THEMES):
        for n in range(per_theme):
            text = f"{theme} note {n}"
            examples.append(ThemeExample(f"{theme}-{n}", text, theme))
            vectors[text] = [float(v) for v in centres[t] + 0.3 * rng.normal(size=32)]
    return examples, vectors


class DownIndex(FakeIndex):
    async def link_scorer(self, owner_id: str) -> LinkScorerReport:
        raise Unavailable("the graph service is unavailable")


class Rig:
    def __init__(self, examples: list[ThemeExample], vectors: dict[str, list[float]]) -> None:
        self.insights = FakeInsights(examples={"ann": examples})
        self.analyzer = FakeAnalyzer(embeddings=vectors)  # defaults: always "Technology"
        self.registry = FakeRegistry()
        self.store = MemoryStore()
        self.queue = FakeQueue()
        self.service = TrainingService(self.store, self.queue, now=lambda: NOW)
        self.trainer = ThemeTrainer(
            self.store,
            self.insights,
            self.analyzer,
            FakeIndex(self.insights),
            self.registry,
            now=lambda: NOW,
        )

    async def train(self, last_attempt: bool = True) -> TrainingJob:
        job = await self.service.start("ann")
        done = await self.trainer.run("ann", job.id, last_attempt)
        assert done is not None
        return done


def test_split_holds_out_a_quarter_of_each_theme_and_is_stable() -> None:
    keys = [f"k{n}" for n in range(11)]
    themes = ["a"] * 8 + ["b"] * 2 + ["c"]
    split = tt.stratified_split(keys, themes)
    held = [themes[i] for i in split.held_out]
    assert held.count("a") == 2 and held.count("b") == 1 and "c" not in held
    assert sorted(split.train + split.held_out) == list(range(11))
    assert tt.stratified_split(keys, themes) == split
    bigger = tt.stratified_split([*keys, "k11"], [*themes, "a"])
    assert set(split.held_out) & set(bigger.held_out)  # mostly the same examples


def test_enough_examples_are_needed() -> None:
    with pytest.raises(tt.NotEnoughExamples, match="found 3 in 2 themes"):
        tt.check_enough(["a", "a", "b"])
    with pytest.raises(tt.NotEnoughExamples, match="in at least 2 themes"):
        tt.check_enough(["a"] * 5)
    with pytest.raises(tt.NotEnoughExamples, match="at least 2 insights in one"):
        tt.check_enough(["a", "b", "c", "d"])
    tt.check_enough(["a", "a", "b", "c"])


def test_promotion_only_when_not_worse() -> None:
    assert tt.should_promote(0.5, 0.5) and tt.should_promote(0.2, 0.9)
    assert not tt.should_promote(0.9, 0.8)


async def test_a_job_trains_evaluates_and_promotes_a_better_model() -> None:
    examples, vectors = synthetic()
    rig = Rig(examples, vectors)
    done = await rig.train()
    assert done.status is JobStatus.SUCCEEDED and done.error == ""
    assert done.examples_used == 24 and done.promoted and done.model_version == 1
    assert done.accuracy_before == 0.0 and done.accuracy_after == 1.0
    assert done.link_scorer.threshold == pytest.approx(0.55)
    assert done.finish_time == NOW and rig.store.jobs[done.id] == done
    model = rig.registry.models["ann"]
    assert sorted(model.classes) == sorted(THEMES) and model.examples == 24
    assert ThemeModel.from_json(model.to_json()) == model  # a safe, plain-JSON artefact
    for example in examples:
        assert model.predict(vectors[example.text])[0] == example.theme
    # The nlp defaults were asked only for the held-out texts, without an owner.
    assert {owner for owner, _ in rig.analyzer.analyzed} == {""}
    assert len(rig.analyzer.analyzed) == 6

    again = await rig.train()  # same data: the new model is as good, so it is promoted
    assert again.accuracy_before == 1.0 and again.promoted and again.model_version == 2


async def test_a_worse_model_is_not_promoted() -> None:
    examples, vectors = synthetic()
    rig = Rig(examples, vectors)
    await rig.train()
    current = rig.registry.models["ann"]
    split = tt.stratified_split([e.insight_id for e in examples], [e.theme for e in examples])
    swap = {"Rust": "Gardening", "Gardening": "Rust", "Investing": "Investing"}
    mislabelled = [
        dataclasses.replace(e, theme=swap[e.theme]) if i in split.train else e
        for i, e in enumerate(examples)
    ]
    rig.insights.examples["ann"] = mislabelled
    done = await rig.train()
    assert done.status is JobStatus.SUCCEEDED
    assert done.accuracy_after < done.accuracy_before and not done.promoted
    assert rig.registry.models["ann"] is current


async def test_too_few_examples_fail_with_a_reason() -> None:
    examples, vectors = synthetic(per_theme=1)
    done = await Rig(examples, vectors).train()
    assert done.status is JobStatus.FAILED and done.examples_used == 3
    assert done.error.startswith("need at least 4 insights whose theme you set")
    # The relationship scorer learns from link feedback without a theme model: still reported.
    assert done.link_scorer.threshold == pytest.approx(0.55)
    assert (done.link_scorer.positive_examples, done.link_scorer.negative_examples) == (1, 2)


async def test_too_few_examples_with_the_graph_down_still_fail_for_the_examples() -> None:
    examples, vectors = synthetic(per_theme=1)
    rig = Rig(examples, vectors)
    rig.trainer = ThemeTrainer(
        rig.store,
        rig.insights,
        rig.analyzer,
        DownIndex(rig.insights),
        rig.registry,
        now=lambda: NOW,
    )
    done = await rig.train()
    assert done.status is JobStatus.FAILED
    assert done.error.startswith("need at least 4 insights whose theme you set")
    assert done.link_scorer.threshold == 0.0


async def test_unavailable_services_retry_then_fail() -> None:
    examples, vectors = synthetic()
    rig = Rig(examples, vectors)
    rig.insights.down = True
    job = await rig.service.start("ann")
    with pytest.raises(Unavailable):
        await rig.trainer.run("ann", job.id, last_attempt=False)
    assert rig.store.jobs[job.id].status is JobStatus.QUEUED  # RQ will retry it
    done = await rig.trainer.run("ann", job.id, last_attempt=True)
    assert done is not None and done.status is JobStatus.FAILED
    assert "unavailable" in done.error
    assert await rig.trainer.run("ann", job.id) is None  # a duplicate delivery does nothing


async def test_jobs_are_the_callers_own_and_one_at_a_time() -> None:
    rig = Rig(*synthetic())
    job = await rig.service.start("ann")
    assert job.status is JobStatus.QUEUED and rig.queue.queued == [(job.id, "ann")]
    assert await rig.service.start("ann") == job  # still queued: the same job
    assert await rig.service.get("ann", job.id) == job
    with pytest.raises(NotFound):
        await rig.service.get("bob", job.id)
    with pytest.raises(NotFound):
        await rig.service.get("ann", "")
    rig.store.jobs[job.id] = dataclasses.replace(job, create_time=NOW - LOST_AFTER)
    fresh = await rig.service.start("ann")
    assert fresh.id != job.id and rig.store.jobs[job.id].status is JobStatus.FAILED


async def test_a_queue_outage_fails_the_job_and_the_call() -> None:
    rig = Rig(*synthetic())
    rig.queue.down = True
    with pytest.raises(Unavailable):
        await rig.service.start("ann")
    (job,) = rig.store.jobs.values()
    assert job.status is JobStatus.FAILED and job.error == "the training queue is unavailable"
