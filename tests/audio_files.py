"""Real recordings for tests: samples encoded in each accepted format, by libsndfile (FLAC, Ogg,
MP3) or by FFmpeg through PyAV (WebM and MP4, written the way browsers' recorders write them)."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
import soundfile
from av.audio.stream import AudioStream


@dataclass(frozen=True)
class Encoding:
    content_type: str
    container: str  # libsndfile's format, or FFmpeg's muxer
    codec: str  # libsndfile's subtype, or FFmpeg's encoder
    rate: int  # one the codec takes: Opus 8, 12, 16, 24 or 48 kHz
    live: bool = False  # written to a stream that cannot seek back: no duration in the header
    options: dict[str, str] = field(default_factory=dict)  # the muxer's
    codec_options: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.container}-{self.codec}{'-live' if self.live else ''}".lower()

    @property
    def by_ffmpeg(self) -> bool:
        return self.container in ("webm", "matroska", "mp4")


FLAC = Encoding("audio/flac", "FLAC", "PCM_16", 22_050)
OGG_VORBIS = Encoding("audio/ogg", "OGG", "VORBIS", 44_100)
OGG_OPUS = Encoding("audio/ogg; codecs=opus", "OGG", "OPUS", 48_000)  # Firefox's recorder
MP3 = Encoding("audio/mpeg", "MP3", "MPEG_LAYER_III", 44_100)
# Chrome's and Edge's MediaRecorder: Opus in WebM, streamed, so the header has no duration.
WEBM_OPUS_LIVE = Encoding("audio/webm;codecs=opus", "webm", "libopus", 48_000, live=True)
WEBM_OPUS = Encoding("audio/webm", "webm", "libopus", 48_000)
# FFmpeg's own Vorbis encoder is marked experimental: fine for a test tone.
WEBM_VORBIS = Encoding(
    "audio/webm", "webm", "vorbis", 44_100, codec_options={"strict": "experimental"}
)
M4A_AAC = Encoding("audio/x-m4a", "mp4", "aac", 44_100)  # a phone's voice memo
# Safari's MediaRecorder: AAC in fragmented MP4, no duration up front.
MP4_AAC_FRAGMENTED = Encoding(
    "audio/mp4",
    "mp4",
    "aac",
    48_000,
    options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
)
ALL = [
    FLAC,
    OGG_VORBIS,
    OGG_OPUS,
    MP3,
    WEBM_OPUS_LIVE,
    WEBM_OPUS,
    WEBM_VORBIS,
    M4A_AAC,
    MP4_AAC_FRAGMENTED,
]


class _LiveSink(io.RawIOBase):
    """Write-only and not seekable, like the stream MediaRecorder writes to."""

    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += data
        return len(data)


def encode(samples: npt.NDArray[np.floating], encoding: Encoding) -> bytes:
    """`samples` at encoding.rate, shaped (frames,) or (frames, channels), in [-1, 1)."""
    frames = samples.reshape(len(samples), -1).astype(np.float32)
    if not encoding.by_ffmpeg:
        buffer = io.BytesIO()
        soundfile.write(
            buffer, frames, encoding.rate, format=encoding.container, subtype=encoding.codec
        )
        return buffer.getvalue()
    return _encode_with_ffmpeg(frames, encoding)


def _encode_with_ffmpeg(frames: npt.NDArray[np.float32], encoding: Encoding) -> bytes:
    if encoding.codec == "vorbis" and frames.shape[1] == 1:
        frames = np.repeat(frames, 2, axis=1)  # FFmpeg's Vorbis encoder takes stereo only
    sink: _LiveSink | io.BytesIO = _LiveSink() if encoding.live else io.BytesIO()
    layout = "mono" if frames.shape[1] == 1 else "stereo"
    with av.open(sink, mode="w", format=encoding.container, options=encoding.options) as out:
        stream = out.add_stream(
            encoding.codec, rate=encoding.rate, layout=layout, options=encoding.codec_options
        )
        assert isinstance(stream, AudioStream)
        step = encoding.rate  # a second at a time
        for start in range(0, len(frames), step):
            block = np.ascontiguousarray(frames[start : start + step].T)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = encoding.rate
            frame.pts, frame.time_base = start, Fraction(1, encoding.rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return bytes(sink.written) if isinstance(sink, _LiveSink) else sink.getvalue()


def tone(
    seconds: float, rate: int, channels: int = 1, hertz: float = 440.0
) -> npt.NDArray[np.float64]:
    t = np.arange(int(seconds * rate)) / rate
    sine = 0.3 * np.sin(2 * np.pi * hertz * t)
    return np.repeat(sine[:, None], channels, axis=1)


def silent_wav(seconds: float = 0.25, rate: int = 8_000) -> bytes:
    """A mono 16-bit WAV of digital silence: valid audio with no speech in it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()
