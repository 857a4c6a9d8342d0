"""Voice notes in FLAC, Ogg (Vorbis, Opus) and MP3: accepted by the insight service's check with
their real duration, decoded by nlp to 16 kHz mono PCM; unreadable files and unsupported types
are clear 400s. The files are made here by libsndfile from a tone."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from services.common import audio_formats
from services.common.errors import InvalidArgument
from services.insight.domain.audio import check_audio
from services.nlp.domain.audio import TARGET_RATE, decode_audio

SECONDS = 1.5
# (media type sent, libsndfile format and subtype, sample rate: Opus takes 8, 12, 16, 24 or 48 kHz)
ENCODINGS = [
    pytest.param("audio/flac", "FLAC", "PCM_16", 22_050, id="flac"),
    pytest.param("audio/ogg", "OGG", "VORBIS", 44_100, id="ogg-vorbis"),
    pytest.param("audio/ogg; codecs=opus", "OGG", "OPUS", 48_000, id="ogg-opus"),
    pytest.param("audio/mpeg", "MP3", "MPEG_LAYER_III", 44_100, id="mp3"),
]


def encoded(fmt: str, subtype: str, rate: int, channels: int = 1) -> bytes:
    t = np.arange(int(SECONDS * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    frames = np.repeat(tone[:, None], channels, axis=1)
    buffer = io.BytesIO()
    soundfile.write(buffer, frames, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize(("content_type", "fmt", "subtype", "rate"), ENCODINGS)
def test_the_upload_check_accepts_it_with_its_duration(
    content_type: str, fmt: str, subtype: str, rate: int
) -> None:
    checked = check_audio(content_type, encoded(fmt, subtype, rate))

    assert checked.format == audio_formats.canonical_type(content_type)
    # MP3 and Opus pad a few milliseconds at the edges.
    assert checked.duration_seconds == pytest.approx(SECONDS, abs=0.06)


@pytest.mark.parametrize(("content_type", "fmt", "subtype", "rate"), ENCODINGS)
def test_nlp_decodes_it_to_16k_mono(content_type: str, fmt: str, subtype: str, rate: int) -> None:
    pcm = decode_audio(content_type, encoded(fmt, subtype, rate, channels=2))

    assert pcm.duration_seconds == pytest.approx(SECONDS, abs=0.06)
    samples = pcm.as_float()
    assert 0.15 < float(np.sqrt(np.mean(samples**2))) < 0.25  # the tone's RMS, 0.3 / sqrt(2)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * TARGET_RATE / len(samples) == pytest.approx(440, abs=5)


@pytest.mark.parametrize("content_type", ["audio/flac", "audio/ogg", "audio/mpeg"])
@pytest.mark.parametrize(
    "data", [b"not audio at all, just some text", b"fLaC", b"OggS" + bytes(60), bytes(range(256))]
)
def test_an_unreadable_file_is_a_400_on_audio(content_type: str, data: bytes) -> None:
    for check in (
        lambda: check_audio(content_type, data),
        lambda: decode_audio(content_type, data),
    ):
        with pytest.raises(InvalidArgument) as caught:
            check()
        assert [v.field for v in caught.value.violations] == ["audio"]


def test_a_file_of_another_format_than_declared_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        check_audio("audio/flac", encoded("OGG", "VORBIS", 44_100))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("audio/x-flac", "audio/flac"),
        ("Audio/OGG; codecs=opus", "audio/ogg"),
        ("audio/opus", "audio/ogg"),
        ("application/ogg", "audio/ogg"),
        ("audio/mp3", "audio/mpeg"),
        ("audio/x-wav", "audio/wav"),
        ("audio/webm", None),
        ("audio/mp4", None),
        ("", None),
    ],
)
def test_media_types(sent: str, stored: str | None) -> None:
    assert audio_formats.canonical_type(sent) == stored


def test_a_refused_type_says_what_is_accepted() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/webm;codecs=opus", b"\x1aE\xdf\xa3")
    (violation,) = caught.value.violations
    assert violation.field == "content_type"
    assert "'audio/webm'" in violation.description and "audio/flac" in violation.description


def test_decoding_stops_at_the_length_limit_whatever_the_header_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The upload check trusts the header; the decoder counts what it actually reads.
    monkeypatch.setattr(audio_formats, "MAX_AUDIO_SECONDS", 0)
    with pytest.raises(InvalidArgument, match="at most 0 minutes"):
        decode_audio("audio/flac", encoded("FLAC", "PCM_16", 8_000))


def test_a_long_note_in_a_tiny_file_is_refused_before_and_during_decoding() -> None:
    # Eleven minutes of silence: FLAC stores it in a few kilobytes.
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(11 * 60 * 8_000), 8_000, format="FLAC", subtype="PCM_16")
    data = buffer.getvalue()
    assert len(data) < 100_000
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="at most 10 minutes"):
            step("audio/flac", data)


def test_an_extreme_sample_rate_is_refused() -> None:
    data = encoded("FLAC", "PCM_16", 384_000)
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="384000 Hz"):
            step("audio/flac", data)
