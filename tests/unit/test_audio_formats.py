"""Voice notes in FLAC, Ogg (Vorbis, Opus), MP3, WebM and MP4: accepted by the insight service's
check with their real duration, decoded by nlp to 16 kHz mono PCM; unreadable files and
unsupported types are clear 400s. The files are real encodings of a tone (tests/audio_files.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from services.common import audio_ffmpeg, audio_formats
from services.common.errors import InvalidArgument
from services.insight.domain.audio import check_audio
from services.nlp.domain.audio import TARGET_RATE, decode_audio
from tests import audio_files
from tests.audio_files import Encoding, encode, tone

SECONDS = 1.5
ENCODINGS = [pytest.param(e, id=e.name) for e in audio_files.ALL]


def encoded(fmt: str, subtype: str, rate: int, channels: int = 1) -> bytes:
    return encode(tone(SECONDS, rate, channels), Encoding("", fmt, subtype, rate))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_upload_check_accepts_it_with_its_duration(encoding: Encoding) -> None:
    checked = check_audio(encoding.content_type, encode(tone(SECONDS, encoding.rate), encoding))

    assert checked.format == audio_formats.canonical_type(encoding.content_type)
    # MP3, Opus and AAC pad a few milliseconds at the edges.
    assert checked.duration_seconds == pytest.approx(SECONDS, abs=0.06)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_nlp_decodes_it_to_16k_mono(encoding: Encoding) -> None:
    pcm = decode_audio(encoding.content_type, encode(tone(SECONDS, encoding.rate, 2), encoding))

    assert pcm.duration_seconds == pytest.approx(SECONDS, abs=0.06)
    samples = pcm.as_float()
    assert 0.15 < float(np.sqrt(np.mean(samples**2))) < 0.25  # the tone's RMS, 0.3 / sqrt(2)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * TARGET_RATE / len(samples) == pytest.approx(440, abs=5)


def test_the_channels_are_averaged_not_just_the_first_taken() -> None:
    # A tone on the left, silence on the right: half the amplitude in the mono mix.
    for encoding in (audio_files.FLAC, audio_files.WEBM_OPUS_LIVE, audio_files.M4A_AAC):
        stereo = tone(SECONDS, encoding.rate, 2)
        stereo[:, 1] = 0
        samples = decode_audio(encoding.content_type, encode(stereo, encoding)).as_float()
        assert 0.09 < float(np.sqrt(np.mean(samples**2))) < 0.125, encoding


@pytest.mark.parametrize(
    "content_type", ["audio/flac", "audio/ogg", "audio/mpeg", "audio/webm", "audio/mp4"]
)
@pytest.mark.parametrize(
    "data",
    [
        b"not audio at all, just some text",
        b"fLaC",
        b"OggS" + bytes(60),
        b"\x1aE\xdf\xa3" + bytes(60),  # the start of a Matroska header
        b"\x00\x00\x00\x20ftypisom" + bytes(60),  # the start of an MP4
        bytes(range(256)),
    ],
)
def test_an_unreadable_file_is_a_400_on_audio(content_type: str, data: bytes) -> None:
    for check in (
        lambda: check_audio(content_type, data),
        lambda: decode_audio(content_type, data),
    ):
        with pytest.raises(InvalidArgument) as caught:
            check()
        assert [v.field for v in caught.value.violations] == ["audio"]


@pytest.mark.parametrize(
    ("declared", "sent"),
    [
        ("audio/flac", audio_files.OGG_VORBIS),
        ("audio/webm", audio_files.M4A_AAC),
        ("audio/mp4", audio_files.WEBM_OPUS_LIVE),
        ("audio/webm", audio_files.OGG_OPUS),
        ("audio/mp4", audio_files.MP3),
    ],
)
def test_a_file_of_another_format_than_declared_is_refused(declared: str, sent: Encoding) -> None:
    data = encode(tone(SECONDS, sent.rate), sent)
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument) as caught:
            step(declared, data)
        assert [v.field for v in caught.value.violations] == ["audio"]


def test_a_codec_recorders_do_not_use_is_refused_by_name() -> None:
    # PCM in Matroska (.mka) is a fine file, but not what a WebM recording holds.
    pcm = Encoding("audio/webm", "matroska", "pcm_s16le", 16_000)
    data = encode(tone(SECONDS, 16_000), pcm)
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="holds pcm_s16le audio"):
            step("audio/webm", data)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        # An HLS playlist and an ffconcat script name other files for FFmpeg to open: the
        # demuxer is fixed by the declared type, so neither is ever read as a playlist.
        ("audio/webm", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n"),
        ("audio/mp4", b"ffconcat version 1.0\nfile /etc/passwd\n"),
        ("audio/mp4", b"#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/secret\n"),
    ],
)
def test_playlists_are_not_followed(content_type: str, data: bytes) -> None:
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="is not a readable"):
            step(content_type, data)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("audio/x-flac", "audio/flac"),
        ("Audio/OGG; codecs=opus", "audio/ogg"),
        ("audio/opus", "audio/ogg"),
        ("application/ogg", "audio/ogg"),
        ("audio/mp3", "audio/mpeg"),
        ("audio/x-wav", "audio/wav"),
        ("audio/webm;codecs=opus", "audio/webm"),
        ("audio/mp4", "audio/mp4"),
        ("audio/x-m4a", "audio/mp4"),
        ("audio/m4a", "audio/mp4"),
        ("video/webm", None),
        ("audio/aac", None),
        ("", None),
    ],
)
def test_media_types(sent: str, stored: str | None) -> None:
    assert audio_formats.canonical_type(sent) == stored


def test_a_refused_type_says_what_is_accepted() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/aac", b"\xff\xf1")
    (violation,) = caught.value.violations
    assert violation.field == "content_type"
    assert "'audio/aac'" in violation.description
    assert "audio/flac" in violation.description and "audio/mp4 (AAC" in violation.description


@pytest.mark.parametrize(
    "encoding",
    [audio_files.FLAC, audio_files.WEBM_OPUS, audio_files.M4A_AAC],
    ids=lambda e: e.name,
)
def test_decoding_stops_at_the_length_limit_whatever_the_header_says(
    monkeypatch: pytest.MonkeyPatch, encoding: Encoding
) -> None:
    # The upload check trusts the header; the decoder counts what it actually reads.
    data = encode(tone(SECONDS, encoding.rate), encoding)
    monkeypatch.setattr(audio_formats, "MAX_AUDIO_SECONDS", 0)
    with pytest.raises(InvalidArgument, match="at most 0 minutes"):
        decode_audio(encoding.content_type, data)


def test_a_live_recording_too_long_is_refused_from_its_packets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No duration in the header: the upload check reads the packets' time stamps.
    data = encode(tone(3, 48_000), audio_files.WEBM_OPUS_LIVE)
    assert check_audio("audio/webm", data).duration_seconds == pytest.approx(3, abs=0.03)
    monkeypatch.setattr(audio_formats, "MAX_AUDIO_SECONDS", 1)
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="at most 0 minutes"):
            step("audio/webm", data)


def test_a_file_of_too_many_packets_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(tone(SECONDS, 48_000), audio_files.WEBM_OPUS_LIVE)  # 20 ms packets: 75
    monkeypatch.setattr(audio_ffmpeg, "MAX_PACKETS", 50)
    for step in (check_audio, decode_audio):
        with pytest.raises(InvalidArgument, match="more than 50 packets"):
            step("audio/webm", data)


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
