"""Choosing the speech engine: clear errors for a missing optional engine or a bad setting."""

from __future__ import annotations

import importlib.util

import pytest

from services.nlp.engines.pocketsphinx_asr import PocketSphinxTranscriber
from services.nlp.engines.transcribers import make_transcriber


def test_pocketsphinx_is_the_default() -> None:
    assert isinstance(make_transcriber(""), PocketSphinxTranscriber)
    assert isinstance(make_transcriber("pocketsphinx"), PocketSphinxTranscriber)


@pytest.mark.skipif(
    importlib.util.find_spec("faster_whisper") is not None, reason="faster-whisper is installed"
)
def test_whisper_without_its_package_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="faster-whisper"):
        make_transcriber("whisper:/models/whisper-small")


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(RuntimeError, match="INSIGHT_TRANSCRIBER"):
        make_transcriber("kaldi")
