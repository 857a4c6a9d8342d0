"""Accepting a voice note: size, length and format limits, checked from the file's header before
storing it (services/common/audio_formats.py lists the formats)."""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass

from services.common import audio_decoding, audio_formats
from services.common.audio_formats import MAX_AUDIO_BYTES
from services.common.errors import InvalidArgument


@dataclass(frozen=True)
class CheckedAudio:
    format: str
    duration_seconds: float


def check_audio(content_type: str, data: bytes) -> CheckedAudio:
    """Reads headers only, except for a WebM recorded live, whose length is in its packets' time
    stamps (a scan of up to ~0.3 s for ten minutes: run it off the event loop)."""
    kind = audio_formats.accepted_type(content_type)
    if not data:
        raise InvalidArgument.field("audio", "must not be empty")
    if len(data) > MAX_AUDIO_BYTES:
        raise InvalidArgument.field("audio", f"must be at most {MAX_AUDIO_BYTES} bytes")
    if kind == audio_formats.WAV:
        duration = _wav_duration(data)
    else:
        duration = audio_decoding.duration(data, kind)
    if duration > audio_formats.MAX_AUDIO_SECONDS:
        raise audio_formats.too_long()
    return CheckedAudio(kind, duration)


def _wav_duration(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            frames, rate = reader.getnframes(), reader.getframerate()
    # A damaged header makes `wave` raise more than wave.Error (EOFError, RuntimeError on chunk
    # sizes past the end of the file, ...): any of them means "not a readable WAV".
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as exc:
        raise InvalidArgument.field("audio", f"is not a readable WAV file ({exc})") from exc
    if rate <= 0 or frames <= 0:
        raise InvalidArgument.field("audio", "contains no samples")
    return float(frames / rate)
