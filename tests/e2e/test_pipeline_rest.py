"""The enrichment pipeline end to end: REST via Envoy → insight → RQ worker → nlp → READY."""

from __future__ import annotations

import io
import pathlib
import time
import wave
from fractions import Fraction
from typing import Any

import httpx
import pytest
import soundfile
from scipy.signal import resample_poly

from gateway.stack import Stack
from services.common.audio_formats import canonical_type
from tests import audio_files
from tests.conftest import bearer

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
SPOKEN_WORDS = {"apple", "opening", "research", "lab", "berlin"}
# Generous: a polling bound so a broken pipeline fails the test instead of hanging it.
SETTLE_SECONDS = 120.0


def wait_for(rest: httpx.Client, token: str, insight_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        insight: dict[str, Any] = rest.get(f"/insights/{insight_id}", headers=bearer(token)).json()[
            "insight"
        ]
        if insight["status"] in statuses or time.monotonic() > deadline:
            return insight
        time.sleep(0.05)


def test_text_insight_is_enriched(rest: httpx.Client, person: dict[str, str]) -> None:
    created = rest.post(
        "/insights",
        json={"text": "Apple is opening a research lab in Berlin"},
        headers=bearer(person["access"]),
    ).json()["insight"]
    ready = wait_for(rest, person["access"], created["id"], {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    entities = {(e["text"], e["label"]) for e in ready["entities"]}
    assert {("Apple", "ORG"), ("Berlin", "GPE")} <= entities
    assert ready["keywords"]
    assert ready["theme"] and 0 < ready["themeConfidence"] <= 1
    assert ready["language"] == "en"
    assert ready["version"] == created["version"]  # enrichment is not a person's edit


def test_editing_the_text_reruns_the_pipeline(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = bearer(person["access"])
    created = rest.post("/insights", json={"text": "Tokyo has great ramen"}, headers=headers)
    insight_id = created.json()["insight"]["id"]
    wait_for(rest, person["access"], insight_id, {"READY"})
    edited = rest.put(
        f"/insights/{insight_id}",
        json={"text": "Microsoft hired engineers in Paris"},
        headers=headers,
    ).json()["insight"]
    assert edited["status"] == "PENDING" and edited["entities"] == []
    ready = wait_for(rest, person["access"], insight_id, {"READY", "FAILED"})
    assert ready["status"] == "READY"
    assert {"Microsoft", "Paris"} <= {e["text"] for e in ready["entities"]}


def test_spoken_note_becomes_an_audio_insight_with_its_words(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    audio = (FIXTURES / "apple_berlin.wav").read_bytes()
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    created = rest.post("/insights/audio", content=audio, headers=headers).json()["insight"]
    ready = wait_for(rest, person["access"], created["id"], {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    assert ready["source"] == "AUDIO"
    words = set(ready["text"].lower().split())
    assert len(words & SPOKEN_WORDS) >= 3, ready["text"]
    assert ready["audio"]["durationSeconds"] == pytest.approx(2.4, abs=0.1)


def test_silent_audio_fails_with_a_reason(rest: httpx.Client, person: dict[str, str]) -> None:
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    created = rest.post(
        "/insights/audio", content=audio_files.silent_wav(1.0, 16_000), headers=headers
    )
    failed = wait_for(rest, person["access"], created.json()["insight"]["id"], {"READY", "FAILED"})
    assert failed["status"] == "FAILED"
    assert "speech" in failed["statusReason"]


def _long_speech(repeats: int) -> bytes:
    with wave.open(str(FIXTURES / "apple_berlin.wav")) as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames * repeats)
    return buffer.getvalue()


def test_a_worker_killed_mid_job_loses_nothing(
    stack: Stack, rest: httpx.Client, person: dict[str, str]
) -> None:
    headers = {**bearer(person["access"]), "Content-Type": "audio/wav"}
    created = rest.post("/insights/audio", content=_long_speech(12), headers=headers)
    insight_id = created.json()["insight"]["id"]
    processing = wait_for(rest, person["access"], insight_id, {"PROCESSING", "READY", "FAILED"})
    assert processing["status"] == "PROCESSING"
    stack.processes["worker"].kill()  # SIGKILL in the middle of the transcription
    after_kill = rest.get(f"/insights/{insight_id}", headers=bearer(person["access"]))
    assert after_kill.json()["insight"]["status"] == "PROCESSING"
    stack.start_worker()
    ready = wait_for(rest, person["access"], insight_id, {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    assert "berlin" in ready["text"].lower()


@pytest.mark.parametrize(
    "encoding",
    [
        audio_files.FLAC,
        audio_files.OGG_OPUS,  # Firefox's recorder
        audio_files.WEBM_OPUS_LIVE,  # Chrome's and Edge's: no duration in the header
        audio_files.MP4_AAC_FRAGMENTED,  # Safari's
        audio_files.M4A_AAC,  # a phone's voice memo
    ],
    ids=lambda encoding: encoding.name,
)
def test_a_compressed_spoken_note_is_transcribed_too(
    rest: httpx.Client, person: dict[str, str], encoding: audio_files.Encoding
) -> None:
    samples, source_rate = soundfile.read(FIXTURES / "apple_berlin.wav", dtype="float64")
    ratio = Fraction(encoding.rate, source_rate)
    resampled = resample_poly(samples, ratio.numerator, ratio.denominator)
    content_type = encoding.content_type
    headers = {**bearer(person["access"]), "Content-Type": content_type}
    body = audio_files.encode(resampled, encoding)
    reply = rest.post("/insights/audio", content=body, headers=headers)
    assert reply.status_code == 200, reply.text
    created = reply.json()["insight"]
    assert created["audio"]["format"] == canonical_type(content_type)
    ready = wait_for(rest, person["access"], created["id"], {"READY", "FAILED"})
    assert ready["status"] == "READY", ready["statusReason"]
    words = set(ready["text"].lower().split())
    assert len(words & SPOKEN_WORDS) >= 3, ready["text"]
    assert ready["audio"]["durationSeconds"] == pytest.approx(2.4, abs=0.1)
