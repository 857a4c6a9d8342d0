"""The model ports the domain calls. Adapters live in services/nlp/engines/.

Every method is synchronous and CPU-bound: the domain runs it in an executor, never on the
event loop. Implementations must be safe to call from several worker threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.nlp.domain.audio import Pcm16k
from services.nlp.domain.models import ParsedText, TranscriptSegment


class TextParser(Protocol):
    def parse(self, text: str, language: str = "en") -> ParsedText:
        """Entities as found, and keyword candidate terms (one per noun chunk, in order).
        `language` is the note's (ISO 639 code): parsers read other languages differently."""


class Embedder(Protocol):
    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length sentence embeddings, one per text, in order."""


class Transcriber(Protocol):
    def transcribe(self, audio: Pcm16k) -> list[TranscriptSegment]:
        """Recognised speech as segments, in time order."""
