"""gRPC servicers of the insight service: protobuf in, domain call, protobuf out. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc

from insighttracker.auth.v1 import auth_pb2, auth_pb2_grpc
from insighttracker.insight.v1 import insight_pb2, insight_pb2_grpc
from services.common.audio_formats import MAX_AUDIO_BYTES
from services.common.errors import FieldViolation, InvalidArgument
from services.common.request_context import current_caller, current_user_id
from services.insight.convert import filter_from_proto, insight_to_proto, user_to_proto
from services.insight.domain.accounts import AccountManager
from services.insight.domain.insights import InsightManager
from services.insight.domain.models import InsightChanges

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, accounts: AccountManager) -> None:
        self._accounts = accounts

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: Context
    ) -> auth_pb2.RegisterResponse:
        user = await self._accounts.register(request.email, request.password, request.display_name)
        return auth_pb2.RegisterResponse(user=user_to_proto(user))

    async def Login(
        self, request: auth_pb2.LoginRequest, context: Context
    ) -> auth_pb2.LoginResponse:
        session = await self._accounts.login(request.email, request.password)
        return auth_pb2.LoginResponse(
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            token_type=session.token_type,
            expires_in=session.expires_in,
        )

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: Context
    ) -> auth_pb2.RefreshResponse:
        session = await self._accounts.refresh(request.refresh_token)
        return auth_pb2.RefreshResponse(
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            token_type=session.token_type,
            expires_in=session.expires_in,
        )

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: Context
    ) -> auth_pb2.LogoutResponse:
        await self._accounts.logout(current_caller(), request.refresh_token)
        return auth_pb2.LogoutResponse()


class InsightServicer(insight_pb2_grpc.InsightServiceServicer):
    def __init__(self, insights: InsightManager) -> None:
        self._insights = insights

    async def CreateInsight(
        self, request: insight_pb2.CreateInsightRequest, context: Context
    ) -> insight_pb2.CreateInsightResponse:
        insight = await self._insights.create(current_user_id(), request.text, list(request.tags))
        return insight_pb2.CreateInsightResponse(insight=insight_to_proto(insight))

    async def GetInsight(
        self, request: insight_pb2.GetInsightRequest, context: Context
    ) -> insight_pb2.GetInsightResponse:
        insight = await self._insights.get(current_user_id(), request.id)
        return insight_pb2.GetInsightResponse(insight=insight_to_proto(insight))

    async def ListInsights(
        self, request: insight_pb2.ListInsightsRequest, context: Context
    ) -> insight_pb2.ListInsightsResponse:
        page, next_token = await self._insights.list(
            current_user_id(), filter_from_proto(request), request.page_size, request.page_token
        )
        return insight_pb2.ListInsightsResponse(
            insights=[insight_to_proto(i) for i in page.insights],
            next_page_token=next_token,
            total_size=page.total_size,
        )

    async def UpdateInsight(
        self, request: insight_pb2.UpdateInsightRequest, context: Context
    ) -> insight_pb2.UpdateInsightResponse:
        tags: tuple[str, ...] | None = None
        if request.HasField("tags"):
            problems = [
                FieldViolation(f"tags[{i}]", "must be a string")
                for i, value in enumerate(request.tags.values)
                if value.WhichOneof("kind") != "string_value"
            ]
            if problems:
                raise InvalidArgument(problems)
            tags = tuple(value.string_value for value in request.tags.values)
        changes = InsightChanges(
            text=request.text if request.HasField("text") else None,
            tags=tags,
            theme=request.theme if request.HasField("theme") else None,
            expected_version=request.version if request.HasField("version") else None,
        )
        insight = await self._insights.update(current_user_id(), request.id, changes)
        return insight_pb2.UpdateInsightResponse(insight=insight_to_proto(insight))

    async def DeleteInsight(
        self, request: insight_pb2.DeleteInsightRequest, context: Context
    ) -> insight_pb2.DeleteInsightResponse:
        await self._insights.delete(current_user_id(), request.id)
        return insight_pb2.DeleteInsightResponse()

    async def UploadAudio(
        self, request_iterator: AsyncIterator[insight_pb2.UploadAudioRequest], context: Context
    ) -> insight_pb2.UploadAudioResponse:
        owner_id = current_user_id()
        content_type, tags, chunks, size = "", [], [], 0
        first = True
        async for message in request_iterator:
            if first:
                content_type, tags, first = message.audio.content_type, list(message.tags), False
            size += len(message.audio.data)
            if size > MAX_AUDIO_BYTES:
                raise InvalidArgument.field("audio", f"must be at most {MAX_AUDIO_BYTES} bytes")
            chunks.append(message.audio.data)
        insight = await self._insights.create_from_audio(
            owner_id, content_type, b"".join(chunks), tags
        )
        return insight_pb2.UploadAudioResponse(insight=insight_to_proto(insight))
