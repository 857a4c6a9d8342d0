"""WebM and MP4 through FFmpeg (bundled in the `av` wheel): Chrome's and Edge's recorder writes
Opus in WebM, Safari's writes AAC in MP4, phones' voice memos are AAC in MP4 (.m4a).

FFmpeg reads far more than these two containers, so the demuxer is named rather than guessed from
the bytes (an upload cannot reach FFmpeg's playlist or network readers) and only the audio codecs
recorders use are decoded."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer

from services.common import audio_formats
from services.common.audio_formats import MP4, WEBM, MonoCollector, check_sample_rate
from services.common.errors import InvalidArgument

# Media type -> FFmpeg's demuxer, and the codecs taken in it.
DEMUXERS = {WEBM: "matroska", MP4: "mp4"}
CODECS = {WEBM: ("opus", "vorbis"), MP4: ("aac", "alac", "mp3", "opus", "flac")}
# 2.5 ms is Opus's shortest frame, so a real note within the length limit has at most this many
# packets; a file of more, tinier ones is built to keep the reader busy and is refused.
MAX_PACKETS = audio_formats.MAX_AUDIO_SECONDS * 400
_READ_ERRORS = (av.FFmpegError, ValueError, OverflowError)


@contextmanager
def _opened(data: bytes, kind: str) -> Iterator[tuple[InputContainer, AudioStream]]:
    try:
        container = av.open(io.BytesIO(data), mode="r", format=DEMUXERS[kind])
    except _READ_ERRORS as exc:
        raise InvalidArgument.field("audio", f"is not a readable {kind} file ({exc})") from exc
    try:
        if not container.streams.audio:
            raise InvalidArgument.field("audio", "has no audio track")
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        if codec not in CODECS[kind]:
            raise InvalidArgument.field(
                "audio", f"holds {codec} audio; {kind} is taken with {', '.join(CODECS[kind])}"
            )
        check_sample_rate(stream.sample_rate)
        yield container, stream
    finally:
        container.close()


def _packets(container: InputContainer, stream: AudioStream) -> Iterator[av.Packet[AudioStream]]:
    for count, packet in enumerate(container.demux(stream), start=1):
        if count > MAX_PACKETS:
            raise InvalidArgument.field("audio", f"has more than {MAX_PACKETS} packets")
        yield packet


def _scanned_seconds(container: InputContainer, stream: AudioStream) -> float:
    """A live recording (MediaRecorder's WebM) has no duration in its header: the packets'
    timestamps give it. Stops once past the limit, which is all the check needs to know.
    Counted in the stream's ticks (plain ints: Fractions per packet cost 3x the demuxing)."""
    if stream.time_base is None:
        raise InvalidArgument.field("audio", "has no time base")
    past_limit = int(audio_formats.MAX_AUDIO_SECONDS / stream.time_base) + 1
    first: int | None = None
    end = 0
    for packet in _packets(container, stream):
        pts = packet.pts
        if pts is None:
            continue
        if first is None or pts < first:
            first = pts
        end = max(end, pts + (packet.duration or 0))
        if end - first > past_limit:
            break
    return float((end - first) * stream.time_base) if first is not None else 0.0


def duration(data: bytes, kind: str) -> float:
    """Seconds: from the header when it has them, else from the packets."""
    with _opened(data, kind) as (container, stream):
        try:
            if container.duration and container.duration > 0:
                seconds = container.duration / av.time_base
            else:
                seconds = _scanned_seconds(container, stream)
        except _READ_ERRORS as exc:
            raise InvalidArgument.field("audio", f"could not be read ({exc})") from exc
    if seconds <= 0:
        raise InvalidArgument.field("audio", "contains no samples")
    return seconds


def _floats(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    """(channels, samples); already float32 after the resampler, so no copy."""
    return np.asarray(frame.to_ndarray(), dtype=np.float32)


def read_mono(data: bytes, kind: str) -> tuple[npt.NDArray[np.float32], int]:
    """One channel in [-1, 1) and its rate. Decoders give packed or planar floats or integers;
    the resampler makes them planar floats (keeping rate and channels) so the mean is per sample."""
    with _opened(data, kind) as (container, stream):
        collected = MonoCollector(stream.sample_rate)
        planar = av.AudioResampler(format="fltp")
        try:
            for packet in _packets(container, stream):
                for frame in packet.decode():
                    for converted in planar.resample(frame):
                        collected.add(_floats(converted))
            for converted in planar.resample(None):
                collected.add(_floats(converted))
        except _READ_ERRORS as exc:
            raise InvalidArgument.field("audio", f"could not be decoded ({exc})") from exc
        return collected.mono(), collected.rate
