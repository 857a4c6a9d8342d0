"""Cache keys of the assistant's responses (and of the analyses of suggestion contexts, see
context_analysis.py).

A key names the owner, the owner's insight change counter (bumped by the insight service on
every create, edit, delete and enrichment) and, for suggestions, the owner's rejection counter,
plus a digest of the request. Any change to the person's insights or a new rejection therefore
makes every older entry unreachable at once; the TTL only reclaims the space.
"""

from __future__ import annotations

import hashlib

from services.assistant.domain.models import SuggestionRequest

PREFIX = "assistant:cache:v1"
SUGGESTIONS_TTL_SECONDS = 600
# Relationships change without touching the insight counter (manual links, deleted links), so
# statistics are cached briefly.
STATS_TTL_SECONDS = 60
CONTEXT_ANALYSIS_TTL_SECONDS = 600


def request_digest(request: SuggestionRequest) -> str:
    raw = f"{request.limit}\x1f{request.insight_id}\x1f{request.context}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def suggestions_key(
    owner_id: str, insights_version: int, rejections_version: int, request: SuggestionRequest
) -> str:
    return (
        f"{PREFIX}:suggestions:{owner_id}:{insights_version}:{rejections_version}:"
        f"{request_digest(request)}"
    )


def stats_key(owner_id: str, insights_version: int) -> str:
    return f"{PREFIX}:stats:{owner_id}:{insights_version}"


def context_analysis_key(owner_id: str, theme_model_version: int, context: str) -> str:
    digest = hashlib.sha256(context.encode()).hexdigest()[:32]
    return f"{PREFIX}:context:{owner_id}:{theme_model_version}:{digest}"
