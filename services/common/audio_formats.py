"""The voice-note formats the service takes, named once for the insight service (which checks an
upload before storing it) and nlp (which decodes it): WAV, read by the standard library, and
FLAC, Ogg (Vorbis or Opus: Firefox's recorder) and MP3, read by libsndfile (the `soundfile`
package bundles it). Browsers' webm and mp4 recordings need FFmpeg and are refused with a
message that lists what is accepted."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import soundfile

from services.common.errors import InvalidArgument

MAX_AUDIO_BYTES = 25 * 1024 * 1024
MAX_AUDIO_SECONDS = 10 * 60
# Speech needs 16 kHz; recorders use up to 48. Higher rates are refused rather than decoded.
MAX_SAMPLE_RATE = 192_000

WAV = "audio/wav"
FLAC = "audio/flac"
OGG = "audio/ogg"
MP3 = "audio/mpeg"
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
}
_LIBSNDFILE_FORMAT = {FLAC: "FLAC", OGG: "OGG", MP3: "MP3"}
ACCEPTED = "audio/wav, audio/flac, audio/ogg (Vorbis or Opus) or audio/mpeg (MP3)"


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


def _opened(data: bytes, kind: str) -> soundfile.SoundFile:
    """libsndfile finds the format from the bytes; it must be the one the client declared."""
    try:
        sound = soundfile.SoundFile(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise InvalidArgument.field("audio", f"is not a readable {kind} file ({exc})") from exc
    problem = ""
    if sound.format != _LIBSNDFILE_FORMAT[kind]:
        problem = f"is not a {kind} file (it reads as {sound.format})"
    elif not 0 < sound.samplerate <= MAX_SAMPLE_RATE:
        problem = f"has a sample rate of {sound.samplerate} Hz; at most {MAX_SAMPLE_RATE} is taken"
    if problem:
        sound.close()
        raise InvalidArgument.field("audio", problem)
    return sound


def compressed_duration(data: bytes, kind: str) -> float:
    """Seconds of a FLAC, Ogg or MP3 file, from its header; InvalidArgument if unreadable."""
    with _opened(data, kind) as sound:
        if sound.frames <= 0:
            raise InvalidArgument.field("audio", "contains no samples")
        return float(sound.frames / sound.samplerate)


def read_compressed_mono(data: bytes, kind: str) -> tuple[npt.NDArray[np.float32], int]:
    """The channels' mean in [-1, 1), and the sample rate. Decoded ten seconds at a time and
    stopped at MAX_AUDIO_SECONDS (and a second) whatever the header claims, so a small file that
    expands enormously (FLAC encodes silence in a few bytes) costs at most the limit's worth of
    one channel at MAX_SAMPLE_RATE."""
    with _opened(data, kind) as sound:
        limit = (MAX_AUDIO_SECONDS + 1) * sound.samplerate
        pieces: list[npt.NDArray[np.float32]] = []
        decoded = 0
        try:
            for block in sound.blocks(10 * sound.samplerate, dtype="float32", always_2d=True):
                pieces.append(block.mean(axis=1, dtype=np.float32))
                decoded += len(block)
                if decoded > limit:
                    raise InvalidArgument.field(
                        "audio", f"must be at most {MAX_AUDIO_SECONDS // 60} minutes"
                    )
        except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
            raise InvalidArgument.field("audio", f"could not be decoded ({exc})") from exc
        mono = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return mono, int(sound.samplerate)
