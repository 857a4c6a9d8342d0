"""Accepting a voice note: size and format limits, and a cheap header check before storing."""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass

from services.common.errors import InvalidArgument

MAX_AUDIO_BYTES = 25 * 1024 * 1024
MAX_AUDIO_SECONDS = 10 * 60
WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})
CANONICAL_WAV = "audio/wav"


@dataclass(frozen=True)
class CheckedAudio:
    format: str
    duration_seconds: float


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def check_audio(content_type: str, data: bytes) -> CheckedAudio:
    kind = media_type(content_type)
    if kind not in WAV_TYPES:
        raise InvalidArgument.field(
            "content_type", f"unsupported audio type {kind or '(none)'!r}; send audio/wav"
        )
    if not data:
        raise InvalidArgument.field("audio", "must not be empty")
    if len(data) > MAX_AUDIO_BYTES:
        raise InvalidArgument.field("audio", f"must be at most {MAX_AUDIO_BYTES} bytes")
    try:
        with wave.open(io.BytesIO(data)) as reader:
            frames, rate = reader.getnframes(), reader.getframerate()
    # A damaged header makes `wave` raise more than wave.Error (EOFError, RuntimeError on chunk
    # sizes past the end of the file, ...): any of them means "not a readable WAV".
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as exc:
        raise InvalidArgument.field("audio", f"is not a readable WAV file ({exc})") from exc
    if rate <= 0 or frames <= 0:
        raise InvalidArgument.field("audio", "contains no samples")
    duration = frames / rate
    if duration > MAX_AUDIO_SECONDS:
        raise InvalidArgument.field("audio", f"must be at most {MAX_AUDIO_SECONDS // 60} minutes")
    return CheckedAudio(CANONICAL_WAV, duration)
