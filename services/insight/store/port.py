"""The insight service's storage port. Adapters: SqliteInsightStore (embedded default), and the
MongoDB adapter of the scale-out deployment. Every insight query is scoped by owner."""

from __future__ import annotations

from typing import Protocol

from services.insight.domain.models import (
    Insight,
    InsightFilter,
    InsightPage,
    NewAccount,
    PageCursor,
    User,
)


class InsightStore(Protocol):
    async def open(self) -> None:
        """Connects, and creates or migrates the schema."""

    async def close(self) -> None: ...

    # --- accounts ---
    async def add_user(self, account: NewAccount) -> User:
        """Stores a new account; raises AlreadyExists when the email is taken."""

    async def find_credentials(self, email: str) -> tuple[User, str] | None:
        """The account with this (lower-cased) email and its password hash."""

    # --- insights ---
    async def add_insight(self, insight: Insight, audio: bytes | None = None) -> None:
        """Durably stores a new insight (and its voice note) before returning."""

    async def get_insight(self, owner_id: str, insight_id: str) -> Insight | None: ...

    async def get_insight_any_owner(self, insight_id: str) -> Insight | None:
        """For internal pipeline calls, where the owner comes from the stored insight."""

    async def get_audio(self, insight_id: str) -> bytes | None: ...

    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage: ...

    async def replace_insight(self, insight: Insight, expected_version: int) -> bool:
        """Writes `insight` if the stored version is still `expected_version` (compare-and-set)."""

    async def delete_insight(self, owner_id: str, insight_id: str) -> bool:
        """Removes the insight and its voice note, and records in the same transaction that its
        graph node must go too (see pending_graph_removals); False when there was none."""

    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        """(insight id, owner id) of deleted insights whose graph nodes may still exist."""

    async def forget_graph_removal(self, insight_id: str) -> None:
        """The graph confirmed the removal."""

    async def list_stale(self, updated_before_us: int, limit: int) -> list[tuple[str, int]]:
        """(id, version) of insights PENDING or PROCESSING not updated since the given time."""
