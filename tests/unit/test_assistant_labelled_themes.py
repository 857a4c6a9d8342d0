"""After a person sets the theme of a handful of insights and trains, new insights on the same
subjects get that theme. Uses the labelled set tests/fixtures/themes_labelled.json (three themes
the default classifier does not have), the real embedding model and the nlp service's default
classifier for the 'before' figure; the services themselves are in-memory fakes."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Sequence

import pytest

from services.assistant.domain.models import JobStatus, TextAnalysis, ThemeExample
from services.assistant.domain.trainer import ThemeTrainer
from services.assistant.domain.training import TrainingService
from services.nlp.domain.themes import DefaultThemes
from services.nlp.engines.loading import default_themes
from services.nlp.engines.sentence_embedder import SentenceEmbedder
from tests.unit.test_assistant_fakes import (
    FakeAnalyzer,
    FakeIndex,
    FakeInsights,
    FakeQueue,
    FakeRegistry,
    MemoryStore,
)

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "themes_labelled.json"


class RealAnalyzer(FakeAnalyzer):
    """The nlp service's embedding model and default theme classifier, in process."""

    def __init__(self, embedder: SentenceEmbedder, themes: DefaultThemes) -> None:
        super().__init__()
        self._embedder = embedder
        self._themes = themes

    async def analyze(self, owner_id: str, text: str) -> TextAnalysis:
        self.analyzed.append((owner_id, text))
        (vector,) = self._embedder.embed([text])
        theme = self._themes.classify(vector)
        return TextAnalysis(theme.name, theme.confidence, vector)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embedder.embed(texts)


@pytest.fixture(scope="module")
def analyzer() -> RealAnalyzer:
    embedder = SentenceEmbedder.load()
    return RealAnalyzer(embedder, default_themes(embedder))


async def test_trained_model_gives_new_insights_the_corrected_theme(
    analyzer: RealAnalyzer,
) -> None:
    data = json.loads(FIXTURE.read_text())
    train = [ThemeExample(f"t{n}", e["text"], e["theme"]) for n, e in enumerate(data["train"])]
    insights = FakeInsights(examples={"ann": train})
    store, registry = MemoryStore(), FakeRegistry()
    job = await TrainingService(store, FakeQueue()).start("ann")
    trainer = ThemeTrainer(store, insights, analyzer, FakeIndex(insights), registry)

    done = await trainer.run("ann", job.id)

    assert done is not None and done.status is JobStatus.SUCCEEDED, done
    assert done.examples_used == 24 and done.promoted
    assert done.accuracy_before == 0.0  # the default themes include none of these
    assert done.accuracy_after >= 0.8
    model = registry.models["ann"]
    new = data["new"]
    vectors = await analyzer.embed([e["text"] for e in new])
    predicted = [model.predict(v) for v in vectors]
    right = [p[0] == e["theme"] for p, e in zip(predicted, new, strict=True)]
    assert sum(right) >= len(new) - 1, list(zip(predicted, new, strict=True))
    defaults = [(await analyzer.analyze("", e["text"])).theme for e in new]
    assert not any(d == e["theme"] for d, e in zip(defaults, new, strict=True))
    print(
        f"new insights themed right: {sum(right)}/{len(new)}; confidences "
        f"{[round(p[1], 2) for p in predicted]}"
    )
