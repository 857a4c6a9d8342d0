"""Input rules: text, tags, theme, page size, registration, and the voice-note check."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from services.common.audio_formats import MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS, WAV
from services.common.errors import FieldViolation, InvalidArgument
from services.insight.domain.audio import check_audio
from services.insight.domain.validation import (
    DEFAULT_PAGE_SIZE,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TEXT_CHARS,
    Violations,
    check_page_size,
    check_registration,
    check_tags,
    check_text,
    check_theme,
)


def fields_of(problems: Violations) -> list[str]:
    with pytest.raises(InvalidArgument) as caught:
        problems.raise_if_any()
    return [violation.field for violation in caught.value.violations]


def no_problems(problems: Violations) -> None:
    problems.raise_if_any()


# --- text ---


@pytest.mark.parametrize(
    "text",
    ["a", "x" * MAX_TEXT_CHARS, "line one\nline two\twith tab\r\n", "emoji 🎉 and ünïcode"],
)
def test_valid_text_is_accepted(text: str) -> None:
    problems = Violations()

    assert check_text(text, "text", problems) == text.strip()
    no_problems(problems)


def test_text_is_stripped() -> None:
    problems = Violations()

    assert check_text("  hello world \n", "text", problems) == "hello world"
    no_problems(problems)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        pytest.param("", "must not be empty", id="empty"),
        pytest.param(" \n\t  \r\n", "must not be empty", id="whitespace-only"),
        pytest.param("x" * (MAX_TEXT_CHARS + 1), "at most 20000", id="too-long"),
        pytest.param("nul\x00byte", "control characters", id="nul"),
        pytest.param("bell\x07", "control characters", id="bell"),
        pytest.param("vertical\x0btab", "control characters", id="vt"),
        pytest.param("form\x0cfeed", "control characters", id="ff"),
        pytest.param("escape \x1b[31m", "control characters", id="esc"),
        pytest.param("delete\x7f", "control characters", id="del"),
    ],
)
def test_invalid_text_is_rejected(text: str, description: str) -> None:
    problems = Violations()
    check_text(text, "text", problems)

    with pytest.raises(InvalidArgument) as caught:
        problems.raise_if_any()

    [violation] = caught.value.violations
    assert violation.field == "text"
    assert description in violation.description


# --- tags ---


def test_tags_are_stripped_and_deduplicated_in_order() -> None:
    problems = Violations()

    tags = check_tags([" work ", "home", "work", "home ", "Work", "idea"], "tags", problems)

    assert tags == ("work", "home", "Work", "idea")
    no_problems(problems)


def test_limits_of_tags_are_accepted() -> None:
    problems = Violations()
    many = [f"tag-{n}" for n in range(MAX_TAGS - 1)] + ["t" * MAX_TAG_CHARS]

    assert len(check_tags(many, "tags", problems)) == MAX_TAGS
    no_problems(problems)


def test_no_tags_are_accepted() -> None:
    problems = Violations()

    assert check_tags([], "tags", problems) == ()
    no_problems(problems)


def test_too_many_tags_are_rejected() -> None:
    problems = Violations()

    check_tags([f"tag-{n}" for n in range(MAX_TAGS + 1)], "tags", problems)

    assert fields_of(problems) == ["tags"]


@pytest.mark.parametrize(
    "bad_tag",
    [
        pytest.param("t" * (MAX_TAG_CHARS + 1), id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("bad\x00tag", id="control"),
    ],
)
def test_each_bad_tag_is_named_by_index(bad_tag: str) -> None:
    problems = Violations()

    tags = check_tags(["ok", "fine", "good", bad_tag, "ok"], "tags", problems)

    assert fields_of(problems) == ["tags[3]"]
    assert tags == ("ok", "fine", "good")


def test_tag_padded_to_the_limit_is_accepted() -> None:
    problems = Violations()

    assert check_tags(["  " + "t" * MAX_TAG_CHARS + "  "], "tags", problems) == (
        "t" * MAX_TAG_CHARS,
    )
    no_problems(problems)


# --- theme ---


def test_theme_is_stripped_and_limited() -> None:
    problems = Violations()

    assert check_theme("  Research  ", "theme", problems) == "Research"
    assert check_theme("", "theme", problems) == ""
    no_problems(problems)
    check_theme("t" * 65, "theme", problems)
    assert fields_of(problems) == ["theme"]


# --- page size ---


def test_page_size_zero_means_default() -> None:
    problems = Violations()

    assert check_page_size(0, problems) == DEFAULT_PAGE_SIZE == 20
    no_problems(problems)


@pytest.mark.parametrize("size", [1, 2, 50, 100])
def test_page_size_in_range_is_kept(size: int) -> None:
    problems = Violations()

    assert check_page_size(size, problems) == size
    no_problems(problems)


@pytest.mark.parametrize("size", [101, -1, -20, 10_000])
def test_page_size_out_of_range_is_rejected(size: int) -> None:
    problems = Violations()

    check_page_size(size, problems)

    assert fields_of(problems) == ["page_size"]


# --- every violation at once ---


def test_all_violations_are_reported_together() -> None:
    problems = Violations()
    check_text("   ", "text", problems)
    check_tags(["a", "b", "c", "x" * 65, "", "e"], "tags", problems)
    check_page_size(101, problems)

    with pytest.raises(InvalidArgument) as caught:
        problems.raise_if_any()

    assert [v.field for v in caught.value.violations] == ["text", "tags[3]", "tags[4]", "page_size"]
    for field in ("text:", "tags[3]:", "tags[4]:", "page_size:"):
        assert field in caught.value.message


def test_no_violations_raise_nothing() -> None:
    Violations().raise_if_any()


def test_invalid_argument_field_helper() -> None:
    error = InvalidArgument.field("page_token", "is bad")

    assert error.violations == [FieldViolation("page_token", "is bad")]
    assert error.message == "invalid request: page_token: is bad"


# --- registration ---


def test_valid_registration_passes() -> None:
    check_registration("ada@example.com", "correct horse", "Ada Lovelace")


def test_registration_reports_every_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_registration("not-an-email", "short", "bad\x00name")

    assert [v.field for v in caught.value.violations] == ["email", "password", "display_name"]


# --- voice notes ---


def make_wav(frames: int, rate: int = 8000, sample_width: int = 2, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(rate)
        writer.writeframes(b"\x01" * (frames * sample_width * channels))
    return buffer.getvalue()


def wav_claiming(frames: int, rate: int = 8000) -> bytes:
    """A mono 8-bit PCM WAV header whose data chunk claims `frames` frames but holds a few."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", frames) + b"\x80" * 16
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + body


def test_real_wav_is_accepted_with_its_duration() -> None:
    data = make_wav(frames=12_000, rate=8000)

    checked = check_audio("audio/wav", data)

    assert checked.format == WAV
    assert checked.duration_seconds == pytest.approx(1.5)


def test_stereo_wav_duration_counts_frames_not_samples() -> None:
    checked = check_audio("audio/wav", make_wav(frames=22_050, rate=44_100, channels=2))

    assert checked.duration_seconds == pytest.approx(0.5)


@pytest.mark.parametrize(
    "content_type", ["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "Audio/WAV; x=1"]
)
def test_wav_media_types_are_accepted(content_type: str) -> None:
    assert check_audio(content_type, make_wav(frames=800)).format == WAV


@pytest.mark.parametrize(
    "content_type", ["audio/aac", "video/webm", "audio/3gpp", "text/plain", ""]
)
def test_an_unsupported_type_is_rejected(content_type: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio(content_type, make_wav(frames=800))

    assert [v.field for v in caught.value.violations] == ["content_type"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"definitely not a wav file, just text", id="text"),
        pytest.param(b"RIFF", id="truncated-riff"),
        pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt ", id="truncated-fmt"),
        pytest.param(bytes(range(256)), id="binary-noise"),
        pytest.param(make_wav(frames=800)[:30], id="cut-header"),
    ],
)
def test_garbage_bytes_are_rejected(data: bytes) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", data)

    assert [v.field for v in caught.value.violations] == ["audio"]


def test_empty_audio_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", b"")

    assert [v.field for v in caught.value.violations] == ["audio"]


def test_wav_without_samples_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", make_wav(frames=0))

    assert "no samples" in caught.value.message


def test_audio_over_the_byte_limit_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", b"\x00" * (MAX_AUDIO_BYTES + 1))

    assert "bytes" in caught.value.message


def test_audio_of_exactly_ten_minutes_is_accepted() -> None:
    checked = check_audio("audio/wav", wav_claiming(frames=8000 * MAX_AUDIO_SECONDS))

    assert checked.duration_seconds == MAX_AUDIO_SECONDS


def test_audio_over_ten_minutes_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", wav_claiming(frames=8000 * MAX_AUDIO_SECONDS + 1))

    assert "10 minutes" in caught.value.message


def test_wav_with_chunk_size_past_the_riff_end_is_invalid_argument() -> None:
    data = bytearray(make_wav(frames=800))
    assert data[12:16] == b"fmt "
    data[16:20] = struct.pack("<I", 100_000)  # the fmt chunk claims far more than the file holds

    with pytest.raises(InvalidArgument) as caught:
        check_audio("audio/wav", bytes(data))

    assert [v.field for v in caught.value.violations] == ["audio"]
