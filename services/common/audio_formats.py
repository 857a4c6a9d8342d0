"""The voice-note formats the service takes and their limits, named once for the insight service
(which checks an upload before storing it) and nlp (which decodes it). WAV is read by the standard
library; FLAC, Ogg (Vorbis or Opus: Firefox's recorder) and MP3 by libsndfile
(services/common/audio_sndfile.py); WebM (Chrome's and Edge's recorder) and MP4 (Safari's, and
phones' voice memos) by FFmpeg (services/common/audio_ffmpeg.py). services/common/audio_decoding.py
picks the reader."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from services.common.errors import InvalidArgument

MAX_AUDIO_BYTES = 25 * 1024 * 1024
MAX_AUDIO_SECONDS = 10 * 60
# Speech needs 16 kHz; recorders use up to 48. Higher rates are refused rather than decoded.
MAX_SAMPLE_RATE = 192_000

WAV = "audio/wav"
FLAC = "audio/flac"
OGG = "audio/ogg"
MP3 = "audio/mpeg"
WEBM = "audio/webm"
MP4 = "audio/mp4"
# Media types as clients send them -> the one stored and passed on.
_CANONICAL = {
    "audio/wav": WAV,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/flac": FLAC,
    "audio/x-flac": FLAC,
    "audio/ogg": OGG,
    "audio/opus": OGG,
    "application/ogg": OGG,
    "audio/mpeg": MP3,
    "audio/mp3": MP3,
    "audio/webm": WEBM,
    "audio/mp4": MP4,
    "audio/m4a": MP4,
    "audio/x-m4a": MP4,
}
# The media types stored and passed on (what the OpenAPI document lists for the upload).
CANONICAL_TYPES = (WAV, FLAC, OGG, MP3, WEBM, MP4)
ACCEPTED = (
    "audio/wav, audio/flac, audio/ogg (Vorbis or Opus), audio/mpeg (MP3), "
    "audio/webm (Opus or Vorbis) or audio/mp4 (AAC, ALAC, MP3, Opus or FLAC)"
)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def canonical_type(content_type: str) -> str | None:
    """The stored media type for a Content-Type header (parameters ignored); None if refused."""
    return _CANONICAL.get(_media_type(content_type))


def accepted_type(content_type: str, field: str = "content_type") -> str:
    """canonical_type, or InvalidArgument on `field` naming the type and what is accepted."""
    kind = canonical_type(content_type)
    if kind is None:
        shown = _media_type(content_type) or "(none)"
        raise InvalidArgument.field(field, f"unsupported audio type {shown!r}; send {ACCEPTED}")
    return kind


def check_sample_rate(rate: int) -> None:
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise InvalidArgument.field(
            "audio", f"has a sample rate of {rate} Hz; at most {MAX_SAMPLE_RATE} is taken"
        )


def too_long() -> InvalidArgument:
    return InvalidArgument.field("audio", f"must be at most {MAX_AUDIO_SECONDS // 60} minutes")


class MonoCollector:
    """Gathers decoded blocks as one channel (the channels' mean) and stops at MAX_AUDIO_SECONDS
    (and a second) whatever a header claimed, so a small file that expands enormously (FLAC
    stores silence in a few bytes) costs at most the limit's worth of one channel."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._limit = (MAX_AUDIO_SECONDS + 1) * rate
        self._pieces: list[npt.NDArray[np.float32]] = []
        self._count = 0

    def add(self, channels_by_samples: npt.NDArray[np.float32]) -> None:
        """One block shaped (channels, samples)."""
        mono = channels_by_samples.mean(axis=0, dtype=np.float32)
        self._pieces.append(mono)
        self._count += len(mono)
        if self._count > self._limit:
            raise too_long()

    def mono(self) -> npt.NDArray[np.float32]:
        return np.concatenate(self._pieces) if self._pieces else np.zeros(0, dtype=np.float32)
