"""WAV decoding and conversion to 16 kHz mono 16-bit, and the transcription stream protocol."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from services.common.audio_formats import MAX_AUDIO_BYTES
from services.common.errors import InvalidArgument
from services.nlp.domain.audio import TARGET_RATE, decode_wav
from services.nlp.domain.transcription import AudioFormat, AudioPart, collect_audio


def tone(
    frequency: float, rate: int, seconds: float, amplitude: float = 0.5
) -> npt.NDArray[np.float64]:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * frequency * t)


def make_wav(channels: Sequence[npt.NDArray[np.float64]], rate: int, width: int) -> bytes:
    interleaved = np.stack(channels, axis=1).reshape(-1)
    if width == 1:
        raw = np.clip(np.round(interleaved * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    elif width == 2:
        raw = np.round(interleaved * 32767).astype("<i2").tobytes()
    elif width == 3:
        ints = np.round(interleaved * (2**23 - 1)).astype("<i4")
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = np.round(interleaved * (2**31 - 1)).astype("<i4").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(len(channels))
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(raw)
    return buffer.getvalue()


def samples(data: bytes) -> npt.NDArray[np.float64]:
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def dominant_frequency(x: npt.NDArray[np.float64]) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * TARGET_RATE / x.size)


def rms(x: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(x**2)))


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_stereo_44k1_converts_to_16k_mono_keeping_pitch_and_level(width: int) -> None:
    left = tone(440, 44_100, 1.0)
    data = make_wav([left, left], 44_100, width)
    pcm = decode_wav(data)
    x = samples(pcm.samples)
    assert pcm.duration_seconds == pytest.approx(1.0, abs=1e-3)
    assert x.size == pytest.approx(TARGET_RATE, abs=2)
    assert dominant_frequency(x) == pytest.approx(440, abs=2)
    tolerance = 0.03 if width == 1 else 0.01
    assert rms(x[100:-100]) == pytest.approx(0.5 / np.sqrt(2), rel=tolerance)


def test_channels_are_averaged() -> None:
    wave_ = tone(300, 16_000, 0.5)
    pcm = decode_wav(make_wav([wave_, np.zeros_like(wave_)], 16_000, 2))
    assert rms(samples(pcm.samples)) == pytest.approx(0.25 / np.sqrt(2), rel=0.01)


def test_16k_mono_16bit_passes_through_unchanged() -> None:
    data = make_wav([tone(200, 16_000, 0.25)], 16_000, 2)
    with wave.open(io.BytesIO(data)) as reader:
        raw = reader.readframes(reader.getnframes())
    assert decode_wav(data).samples == raw


def test_resampling_filters_out_what_16k_cannot_hold() -> None:
    # A 10 kHz tone is above the 8 kHz Nyquist limit: it must vanish, not fold down to 6 kHz.
    pcm = decode_wav(make_wav([tone(10_000, 44_100, 0.5)], 44_100, 2))
    assert rms(samples(pcm.samples)[200:-200]) < 0.01


def test_odd_sample_rates_are_resampled_too() -> None:
    pcm = decode_wav(make_wav([tone(500, 16_001, 1.0)], 16_001, 2))
    assert dominant_frequency(samples(pcm.samples)) == pytest.approx(500, abs=2)


def test_empty_wav_decodes_to_nothing() -> None:
    assert decode_wav(make_wav([np.zeros(0)], 8_000, 2)).samples == b""


@pytest.mark.parametrize("data", [b"", b"not audio at all", b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_undecodable_audio_is_an_invalid_argument(data: bytes) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_wav(data)
    assert caught.value.violations[0].field == "audio"


async def stream(*parts: AudioPart) -> AsyncIterator[AudioPart]:
    for part in parts:
        yield part


async def test_stream_is_reassembled_in_order() -> None:
    fmt = AudioFormat("audio/wav", 16_000)
    declared, data = await collect_audio(
        stream(AudioPart(format=fmt), AudioPart(chunk=b"ab"), AudioPart(chunk=b"cd"))
    )
    assert (declared, data) == (fmt, b"abcd")


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ((AudioPart(chunk=b"x"),), "format"),
        ((), "format"),
        (
            (AudioPart(format=AudioFormat("audio/aac")), AudioPart(chunk=b"x")),
            "format.content_type",
        ),
        ((AudioPart(format=AudioFormat("audio/wav", -1)),), "format.sample_rate_hertz"),
        ((AudioPart(format=AudioFormat("audio/wav")),), "audio_chunk"),
        (
            (
                AudioPart(format=AudioFormat("audio/wav")),
                AudioPart(chunk=b"x"),
                AudioPart(format=AudioFormat("audio/wav")),
            ),
            "format",
        ),
    ],
)
async def test_stream_protocol_violations(parts: tuple[AudioPart, ...], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await collect_audio(stream(*parts))
    assert caught.value.violations[0].field == field


async def test_stream_over_the_size_limit_is_refused() -> None:
    chunk = b"\x00" * (1024 * 1024)
    parts = [AudioPart(format=AudioFormat("audio/wav"))]
    parts += [AudioPart(chunk=chunk)] * (MAX_AUDIO_BYTES // len(chunk) + 1)
    with pytest.raises(InvalidArgument, match="exceeds"):
        await collect_audio(stream(*parts))
