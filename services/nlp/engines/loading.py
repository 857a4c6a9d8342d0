"""Loading every model the service needs, once per process, as the settings choose."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import torch

from services.common.config import Settings
from services.nlp.domain.language import warm_up as warm_up_language
from services.nlp.domain.ports import Embedder, TextParser
from services.nlp.domain.theme_examples import THEME_EXAMPLES
from services.nlp.domain.themes import DefaultThemes
from services.nlp.engines.isolated import ProcessTranscriber
from services.nlp.engines.sentence_embedder import SentenceEmbedder
from services.nlp.engines.spacy_text import SpacyTextParser

log = logging.getLogger("models")


@dataclass(frozen=True)
class Models:
    parser: TextParser
    embedder: Embedder
    themes: DefaultThemes
    transcriber: ProcessTranscriber


def default_themes(embedder: Embedder) -> DefaultThemes:
    """Fitted on the embeddings of the built-in examples (~2 s for 270 short texts)."""
    names = list(THEME_EXAMPLES)
    vectors = iter(embedder.embed([text for name in names for text in THEME_EXAMPLES[name]]))
    by_theme = {name: [next(vectors) for _ in THEME_EXAMPLES[name]] for name in names}
    return DefaultThemes.fit(by_theme)


def load_models(settings: Settings) -> Models:
    """Blocking and slow (seconds): call it from a thread, not the event loop."""
    started = time.perf_counter()
    torch.set_num_threads(1)
    transcriber = ProcessTranscriber(settings.transcriber)  # starts loading in its own process
    warm_up_language()
    parser = SpacyTextParser.load(settings.spacy_model)
    embedder = SentenceEmbedder.load(settings.embedding_model)
    themes = default_themes(embedder)
    transcriber.wait_until_ready()
    log.info(
        "models loaded",
        extra={
            "spacy_model": settings.spacy_model,
            "embedding_model": settings.embedding_model or "all-MiniLM-L6-v2 (bundled)",
            "transcriber": settings.transcriber,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return Models(parser=parser, embedder=embedder, themes=themes, transcriber=transcriber)
