"""What the insight domain needs from the outside world, besides its store."""

from __future__ import annotations

from typing import Protocol


class PipelineQueue(Protocol):
    async def enqueue_processing(self, insight_id: str, version: int) -> None:
        """Queues the enrichment of this version of an insight; may raise Unavailable."""


class MeaningSearch(Protocol):
    async def close_in_meaning(self, owner_id: str, query: str) -> frozenset[str]:
        """Ids of the person's enriched insights whose meaning is close to `query`; may raise
        Unavailable."""


class ChangeNotifier(Protocol):
    async def bump(self, owner_id: str) -> None:
        """Tells caches elsewhere that this person's insights changed; never raises."""


class LoginAttempts(Protocol):
    async def check(self, email: str) -> None:
        """Raises ResourceExhausted while the account is backing off after failed logins."""

    async def failed(self, email: str) -> None: ...

    async def succeeded(self, email: str) -> None: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...
