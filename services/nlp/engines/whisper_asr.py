"""Transcriber on faster-whisper (optional): INSIGHT_TRANSCRIBER=whisper:<model directory>.

The package is imported only when this engine is chosen, and a missing package or model fails at
start-up with a message saying what to install or fix. Not installed by default.
"""

from __future__ import annotations

import importlib
import math
import pathlib
from typing import Any

from services.nlp.domain.audio import Pcm16k
from services.nlp.domain.models import TranscriptSegment


class WhisperTranscriber:
    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls, model_path: str) -> WhisperTranscriber:
        try:
            faster_whisper = importlib.import_module("faster_whisper")
        except ImportError as exc:
            raise RuntimeError(
                "INSIGHT_TRANSCRIBER asks for whisper, but the faster-whisper package is not "
                "installed (pip install faster-whisper)"
            ) from exc
        if not model_path or not pathlib.Path(model_path).is_dir():
            raise RuntimeError(
                f"INSIGHT_TRANSCRIBER=whisper:<dir> needs a local CTranslate2 Whisper model "
                f"directory; {model_path!r} is not one"
            )
        model = faster_whisper.WhisperModel(model_path, device="cpu", compute_type="int8")
        return cls(model)

    def transcribe(self, audio: Pcm16k) -> list[TranscriptSegment]:
        segments, _info = self._model.transcribe(audio.as_float(), beam_size=1)
        return [
            TranscriptSegment(
                text=str(segment.text).strip(),
                start_seconds=float(segment.start),
                end_seconds=float(segment.end),
                confidence=min(1.0, math.exp(float(segment.avg_logprob))),
            )
            for segment in segments
            if str(segment.text).strip()
        ]
