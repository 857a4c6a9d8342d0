"""The insight service over real gRPC: health, reflection, auth, rich errors, streaming."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.stack import Stack
from insighttracker.auth.v1 import auth_pb2, auth_pb2_grpc
from insighttracker.insight.v1 import insight_pb2, insight_pb2_grpc
from tests.conftest import unique_email

pytestmark = [pytest.mark.redis]


@pytest.fixture()
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.config.insight_port}") as chan:
        yield chan


async def _login(channel: grpc.aio.Channel) -> list[tuple[str, str]]:
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    email = unique_email()
    await auth.Register(auth_pb2.RegisterRequest(email=email, password="long enough"))
    tokens = await auth.Login(auth_pb2.LoginRequest(email=email, password="long enough"))
    return [("authorization", f"Bearer {tokens.access_token}")]


async def test_health_reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "insighttracker.insight.v1.InsightService"):
        reply = await health.Check(  # type: ignore[attr-defined]  # stubs declare servicer only
            health_pb2.HealthCheckRequest(service=service)
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _grpcurl(stack: Stack, *args: str) -> str:
    binary = shutil.which("grpcurl")
    assert binary, "grpcurl is installed by `make tools`"
    address = f"127.0.0.1:{stack.config.insight_port}"
    done = subprocess.run(
        [binary, "-plaintext", *args[:-1], address, args[-1]]
        if len(args) > 1
        else [binary, "-plaintext", address, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grpcurl_lists_and_describes_without_proto_files(stack: Stack) -> None:
    services = _grpcurl(stack, "list").split()
    assert {
        "insighttracker.auth.v1.AuthService",
        "insighttracker.insight.v1.InsightService",
        "grpc.health.v1.Health",
    } <= set(services)
    described = _grpcurl(stack, "describe")
    assert "rpc CreateInsight" in described


def test_grpcurl_calls_a_method(stack: Stack) -> None:
    request = json.dumps({"email": unique_email(), "password": "long enough"})
    reply = json.loads(
        _grpcurl(stack, "-d", request, "insighttracker.auth.v1.AuthService/Register")
    )
    assert reply["user"]["email"] == json.loads(request)["email"]


async def test_calls_without_a_token_are_unauthenticated(channel: grpc.aio.Channel) -> None:
    insights = insight_pb2_grpc.InsightServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await insights.ListInsights(insight_pb2.ListInsightsRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_input_carries_field_violations(channel: grpc.aio.Channel) -> None:
    insights = insight_pb2_grpc.InsightServiceStub(channel)
    call = insights.CreateInsight(
        insight_pb2.CreateInsightRequest(text="", tags=["x" * 65]), metadata=await _login(channel)
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await call
    trailers = dict(await call.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert {v.field for v in bad_request.field_violations} == {"text", "tags[0]"}


async def test_audio_upload_streams_in_chunks(channel: grpc.aio.Channel) -> None:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(22_050)
        writer.writeframes(b"\x01\x00\x02\x00" * 22_050 * 3)
    data = buffer.getvalue()
    chunks = [data[i : i + 65_536] for i in range(0, len(data), 65_536)]

    async def messages() -> AsyncIterator[insight_pb2.UploadAudioRequest]:
        for index, chunk in enumerate(chunks):
            request = insight_pb2.UploadAudioRequest()
            request.audio.data = chunk
            if index == 0:
                request.audio.content_type = "audio/wav"
                request.tags.append("voice")
            yield request

    insights = insight_pb2_grpc.InsightServiceStub(channel)
    reply = await insights.UploadAudio(messages(), metadata=await _login(channel))
    assert reply.insight.source == insight_pb2.Insight.AUDIO
    assert reply.insight.audio.size_bytes == len(data)
    assert reply.insight.audio.duration_seconds == pytest.approx(3.0)
    assert list(reply.insight.tags) == ["voice"]
