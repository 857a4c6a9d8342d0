"""SubmitFeedback: the person's verdict on a suggestion (by its id) or on an insight, stored as
one training example. A rejected suggestion is never suggested again; a rejected insight is never
suggested again as RELATED or RESURFACE."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.assistant.domain.models import INSIGHT_FEEDBACK, Feedback
from services.assistant.domain.ports import InsightDirectory, SuggestionStore
from services.common.clock import utc_now
from services.common.errors import InvalidArgument, NotFound


class FeedbackRecorder:
    def __init__(
        self,
        store: SuggestionStore,
        insights: InsightDirectory,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._store = store
        self._insights = insights
        self._now = now

    async def record(
        self, owner_id: str, insight_id: str, suggestion_id: str, accepted: bool
    ) -> Feedback:
        if suggestion_id:
            feedback = await self._about_suggestion(owner_id, insight_id, suggestion_id, accepted)
        elif insight_id:
            if not await self._insights.batch_get(owner_id, [insight_id]):
                raise NotFound("insight not found")
            feedback = Feedback("", INSIGHT_FEEDBACK, insight_id, accepted, self._now())
        else:
            raise InvalidArgument.field("suggestion", "give a suggestion id or an insight_id")
        await self._store.add_feedback(owner_id, feedback)
        return feedback

    async def _about_suggestion(
        self, owner_id: str, insight_id: str, suggestion_id: str, accepted: bool
    ) -> Feedback:
        issued = await self._store.issued(owner_id, suggestion_id)
        if issued is None:
            raise InvalidArgument.field("suggestion", "no suggestion with this id was made to you")
        if insight_id and insight_id != issued.insight_id:
            raise InvalidArgument.field("insight_id", "is not the insight of this suggestion")
        return Feedback(issued.id, issued.kind.value, issued.target, accepted, self._now())
