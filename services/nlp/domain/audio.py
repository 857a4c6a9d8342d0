"""Voice notes: WAV, FLAC, Ogg, MP3, WebM or MP4 bytes in, 16 kHz mono 16-bit PCM out (what the
recognisers take).

Any PCM WAV the stdlib `wave` module reads is accepted: any sample rate, any number of channels
(averaged to mono), 8-bit unsigned or 16/24/32-bit signed samples. Resampling is polyphase with an
anti-aliasing filter (scipy.signal.resample_poly), so 44.1 kHz music-rate recordings do not fold
their upper band into the speech band.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

from services.common import audio_decoding, audio_formats
from services.common.errors import InvalidArgument

TARGET_RATE = 16_000
MAX_RESAMPLE_FACTOR = 1000


@dataclass(frozen=True)
class Pcm16k:
    """Mono 16-bit little-endian PCM at 16 kHz."""

    samples: bytes

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / (2 * TARGET_RATE)

    def as_float(self) -> npt.NDArray[np.float32]:
        """Samples scaled to [-1, 1), for recognisers that take floats."""
        return np.frombuffer(self.samples, dtype="<i2").astype(np.float32) / 32768.0


def _to_float(raw: bytes, width: int) -> npt.NDArray[np.float64]:
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float64) / float(1 << 23)
    if width == 4:
        return np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    raise InvalidArgument.field("audio", f"unsupported sample width of {width * 8} bits")


def decode_wav(data: bytes, declared_rate: int = 0) -> Pcm16k:
    """Decodes a PCM WAV file and converts it; raises InvalidArgument when it cannot."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate() or declared_rate
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError, ValueError, struct.error) as exc:
        raise InvalidArgument.field("audio", f"not a readable PCM WAV file ({exc})") from exc
    if channels < 1 or rate <= 0:
        raise InvalidArgument.field("audio", "the WAV header has no channels or no sample rate")
    usable = len(raw) - len(raw) % (channels * width)
    samples = _to_float(raw[:usable], width)
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return _pcm16k(mono, rate)


def decode_audio(content_type: str, data: bytes, declared_rate: int = 0) -> Pcm16k:
    """Decodes any accepted format (services/common/audio_formats.py); InvalidArgument when the
    type is refused or the file cannot be read."""
    kind = audio_formats.accepted_type(content_type)
    if kind == audio_formats.WAV:
        return decode_wav(data, declared_rate)
    mono, rate = audio_decoding.read_mono(data, kind)
    return _pcm16k(mono, rate)


def _pcm16k(mono: npt.NDArray[np.floating[Any]], rate: int) -> Pcm16k:
    """Mono floats (float32 from libsndfile, float64 from WAV; no copy to widen them) at `rate`
    -> 16 kHz 16-bit."""
    if rate != TARGET_RATE and mono.size:
        # Exotic rates (e.g. 16001 Hz) are approximated to keep the filter short; the error in
        # pitch stays under 0.1%.
        ratio = Fraction(TARGET_RATE, rate).limit_denominator(MAX_RESAMPLE_FACTOR)
        mono = resample_poly(mono, ratio.numerator, ratio.denominator)
    pcm = np.clip(np.round(mono * 32768.0), -32768, 32767).astype("<i2")
    return Pcm16k(pcm.tobytes())
