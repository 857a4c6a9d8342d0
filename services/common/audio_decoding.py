"""Reading a compressed voice note with the library that knows its format
(services/common/audio_formats.py names them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from services.common import audio_ffmpeg, audio_sndfile


def duration(data: bytes, kind: str) -> float:
    """Seconds of a compressed note of media type `kind`; InvalidArgument if unreadable."""
    if kind in audio_ffmpeg.DEMUXERS:
        return audio_ffmpeg.duration(data, kind)
    return audio_sndfile.duration(data, kind)


def read_mono(data: bytes, kind: str) -> tuple[npt.NDArray[np.float32], int]:
    """One channel in [-1, 1) and its sample rate, stopped at the length limit whatever a header
    claims; InvalidArgument if unreadable."""
    if kind in audio_ffmpeg.DEMUXERS:
        return audio_ffmpeg.read_mono(data, kind)
    return audio_sndfile.read_mono(data, kind)
