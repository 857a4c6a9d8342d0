"""What one training job does, for one person (see theme_training.py for the method):

1. read the person's theme corrections (the insights whose theme they set) from the insight
   service and embed them with the nlp service, 256 at a time;
2. split them, fit a new classifier, and measure it and the current one on the held-out part
   (the current one is the promoted model, or the nlp service's default classifier);
3. promote the new model (next version, refitted on every example) only if it is not worse;
4. report the relationship scorer, which the graph service recalibrates on every link feedback
   (a job FAILED for too few theme corrections reports it too).

The job row records examples used, accuracy before/after, whether the model was promoted, or
FAILED with a reason. Too few examples is a FAILED job whose `error` says what is missing: no
model was trained, and the person should see why rather than a success that changed nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence

from services.assistant.domain import theme_training as tt
from services.assistant.domain.models import JobStatus, ThemeExample, TrainingJob
from services.assistant.domain.ports import (
    InsightDirectory,
    ModelRegistry,
    SimilarityIndex,
    TextAnalyzer,
    TrainingJobStore,
)
from services.common.clock import utc_now
from services.common.errors import Unavailable
from services.common.theme_fitting import Matrix, normalised
from services.common.theme_models import ThemeModel

log = logging.getLogger(__name__)

MAX_EXAMPLES = 5000
EMBED_BATCH = 256
ANALYZE_CONCURRENCY = 8  # default-theme calls in flight at once


def examples_digest(examples: Sequence[ThemeExample]) -> str:
    """Changes whenever an example is added, removed, re-themed or re-worded."""
    digest = hashlib.sha256()
    for e in sorted(examples, key=lambda e: e.insight_id):
        digest.update(f"{e.insight_id}\x1f{e.theme}\x1f{e.text}\x1e".encode())
    return digest.hexdigest()


class ThemeTrainer:
    def __init__(
        self,
        jobs: TrainingJobStore,
        insights: InsightDirectory,
        analyzer: TextAnalyzer,
        graph: SimilarityIndex,
        registry: ModelRegistry,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._jobs = jobs
        self._insights = insights
        self._analyzer = analyzer
        self._graph = graph
        self._registry = registry
        self._now = now

    async def run(
        self, owner_id: str, job_id: str, last_attempt: bool = True
    ) -> TrainingJob | None:
        """Runs a queued job. A finished or unknown one is left alone (a duplicate delivery)."""
        job = await self._jobs.job(owner_id, job_id)
        if job is None or job.status.finished:
            return None
        job = dataclasses.replace(job, status=JobStatus.RUNNING)
        await self._jobs.save_job(job)
        try:
            examples = await self._insights.theme_examples(owner_id, MAX_EXAMPLES)
            job = dataclasses.replace(
                job, examples_used=len(examples), examples_digest=examples_digest(examples)
            )
            job = await self._train(job, examples)
        except tt.NotEnoughExamples as reason:
            job = self._finish(job, JobStatus.FAILED, str(reason))
            job = await self._with_link_scorer(job)
        except Unavailable as error:
            if not last_attempt:
                await self._jobs.save_job(dataclasses.replace(job, status=JobStatus.QUEUED))
                raise
            job = self._finish(job, JobStatus.FAILED, f"gave up after retries: {error.message}")
        except Exception:
            log.exception("training failed", extra={"job_id": job_id})
            job = self._finish(job, JobStatus.FAILED, "internal error while training")
        await self._jobs.save_job(job)
        return job

    async def _with_link_scorer(self, job: TrainingJob) -> TrainingJob:
        """No theme model without enough corrections, but the relationship scorer learns from
        link feedback on its own: the person still sees where it stands. Best effort: the job's
        reason is the missing examples, not a graph outage."""
        try:
            return dataclasses.replace(job, link_scorer=await self._graph.link_scorer(job.owner_id))
        except Unavailable:
            return job

    def _finish(self, job: TrainingJob, status: JobStatus, error: str = "") -> TrainingJob:
        return dataclasses.replace(job, status=status, error=error, finish_time=self._now())

    async def _train(self, job: TrainingJob, examples: Sequence[ThemeExample]) -> TrainingJob:
        owner = job.owner_id
        themes = [e.theme for e in examples]
        tt.check_enough(themes)
        x = normalised(await self._embed([e.text for e in examples]))
        split = tt.stratified_split([e.insight_id for e in examples], themes)
        held_x = x[split.held_out]
        held_truth = [themes[i] for i in split.held_out]
        held_texts = [examples[i].text for i in split.held_out]
        current = await self._current_predictions(owner, held_texts, held_x)
        before = tt.accuracy(current, held_truth)
        train_themes = [themes[i] for i in split.train]
        candidate = await asyncio.to_thread(tt.fit, x[split.train], train_themes)
        after = tt.accuracy(candidate.predict(held_x), held_truth)
        link_scorer = await self._graph.link_scorer(owner)
        promoted = tt.should_promote(before, after)
        version = 0
        if promoted:
            final = await asyncio.to_thread(tt.fit, x, themes)
            version = await self._registry.current_version(owner) + 1
            await self._registry.promote(
                owner,
                ThemeModel(
                    version=version,
                    classes=final.classes,
                    coef=final.coef,
                    intercept=final.intercept,
                    examples=len(examples),
                    accuracy=after,
                    trained_at=self._now().isoformat(),
                ),
            )
        log.info(
            "theme model trained",
            extra={"job_id": job.id, "before": before, "after": after, "promoted": promoted},
        )
        return dataclasses.replace(
            self._finish(job, JobStatus.SUCCEEDED),
            accuracy_before=before,
            accuracy_after=after,
            promoted=promoted,
            model_version=version,
            link_scorer=link_scorer,
        )

    async def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors += await self._analyzer.embed(texts[start : start + EMBED_BATCH])
        return vectors

    async def _current_predictions(
        self, owner: str, texts: Sequence[str], embeddings: Matrix
    ) -> list[str]:
        """The current model's themes for the held-out examples."""
        current = await self._registry.current(owner)
        if current is not None:
            return [current.predict([float(v) for v in row])[0] for row in embeddings]
        themes: list[str] = []
        for start in range(0, len(texts), ANALYZE_CONCURRENCY):
            chunk = texts[start : start + ANALYZE_CONCURRENCY]
            defaults = await asyncio.gather(*(self._analyzer.analyze("", t) for t in chunk))
            themes += [d.theme for d in defaults]
        return themes
