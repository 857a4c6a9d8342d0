"""Choosing the speech engine by setting: "pocketsphinx" (default) or "whisper:<model dir>"."""

from __future__ import annotations

from services.nlp.domain.ports import Transcriber
from services.nlp.engines.pocketsphinx_asr import PocketSphinxTranscriber
from services.nlp.engines.whisper_asr import WhisperTranscriber

WHISPER_PREFIX = "whisper:"


def make_transcriber(choice: str) -> Transcriber:
    if choice in ("", "pocketsphinx"):
        return PocketSphinxTranscriber()
    if choice.startswith(WHISPER_PREFIX):
        return WhisperTranscriber.load(choice.removeprefix(WHISPER_PREFIX))
    raise RuntimeError(
        f"INSIGHT_TRANSCRIBER must be 'pocketsphinx' or 'whisper:<model dir>', not {choice!r}"
    )
