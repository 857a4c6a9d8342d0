"""FLAC, Ogg and MP3 through libsndfile (bundled in the `soundfile` wheel)."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import soundfile

from services.common.audio_formats import FLAC, MP3, OGG, MonoCollector, check_sample_rate
from services.common.errors import InvalidArgument

# Media type -> libsndfile's name for the format.
FORMATS = {FLAC: "FLAC", OGG: "OGG", MP3: "MP3"}


def _opened(data: bytes, kind: str) -> soundfile.SoundFile:
    """libsndfile finds the format from the bytes; it must be the one the client declared."""
    try:
        sound = soundfile.SoundFile(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise InvalidArgument.field("audio", f"is not a readable {kind} file ({exc})") from exc
    try:
        if sound.format != FORMATS[kind]:
            raise InvalidArgument.field(
                "audio", f"is not a {kind} file (it reads as {sound.format})"
            )
        check_sample_rate(sound.samplerate)
    except InvalidArgument:
        sound.close()
        raise
    return sound


def duration(data: bytes, kind: str) -> float:
    """Seconds, from the header."""
    with _opened(data, kind) as sound:
        if sound.frames <= 0:
            raise InvalidArgument.field("audio", "contains no samples")
        return float(sound.frames / sound.samplerate)


def read_mono(data: bytes, kind: str) -> tuple[npt.NDArray[np.float32], int]:
    """One channel in [-1, 1) and its rate, decoded ten seconds at a time."""
    with _opened(data, kind) as sound:
        collected = MonoCollector(int(sound.samplerate))
        try:
            for block in sound.blocks(10 * sound.samplerate, dtype="float32", always_2d=True):
                collected.add(block.T)
        except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
            raise InvalidArgument.field("audio", f"could not be decoded ({exc})") from exc
        return collected.mono(), collected.rate
