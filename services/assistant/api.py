"""gRPC servicer of AssistantService (people, with their access token): protobuf in, domain
call, protobuf out. Nothing else."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from insighttracker.assistant.v1 import assistant_pb2 as pb
from insighttracker.assistant.v1 import assistant_pb2_grpc
from services.assistant.convert import job_to_proto, stats_to_proto, suggestion_to_proto
from services.assistant.domain.feedback import FeedbackRecorder
from services.assistant.domain.models import SuggestionRequest
from services.assistant.domain.stats import StatsReporter
from services.assistant.domain.suggestions import Suggester
from services.assistant.domain.training import TrainingService
from services.common.request_context import current_user_id

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class AssistantServicer(assistant_pb2_grpc.AssistantServiceServicer):
    def __init__(
        self,
        suggester: Suggester,
        feedback: FeedbackRecorder,
        training: TrainingService,
        stats: StatsReporter,
    ) -> None:
        self._suggester = suggester
        self._feedback = feedback
        self._training = training
        self._stats = stats

    async def ListSuggestions(
        self, request: pb.ListSuggestionsRequest, context: Context
    ) -> pb.ListSuggestionsResponse:
        found = await self._suggester.suggest(
            current_user_id(),
            SuggestionRequest(request.context, request.insight_id, request.limit),
        )
        return pb.ListSuggestionsResponse(suggestions=[suggestion_to_proto(s) for s in found])

    async def SubmitFeedback(
        self, request: pb.SubmitFeedbackRequest, context: Context
    ) -> pb.SubmitFeedbackResponse:
        await self._feedback.record(
            current_user_id(), request.insight_id, request.suggestion, request.accepted
        )
        return pb.SubmitFeedbackResponse()

    async def StartTraining(
        self, request: pb.StartTrainingRequest, context: Context
    ) -> pb.StartTrainingResponse:
        job = await self._training.start(current_user_id())
        return pb.StartTrainingResponse(job=job_to_proto(job))

    async def GetTrainingJob(
        self, request: pb.GetTrainingJobRequest, context: Context
    ) -> pb.GetTrainingJobResponse:
        job = await self._training.get(current_user_id(), request.job_id)
        return pb.GetTrainingJobResponse(job=job_to_proto(job))

    async def GetStats(self, request: pb.GetStatsRequest, context: Context) -> pb.GetStatsResponse:
        return stats_to_proto(await self._stats.report(current_user_id()))
