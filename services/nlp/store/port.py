"""The nlp service's one piece of state: each owner's corpus statistics, for keyword IDF.

Adapters: RedisCorpusStats (every deployment), MemoryCorpusStats (tests, single process).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from services.nlp.domain.models import CorpusCounts


class CorpusStats(Protocol):
    async def count(self, owner_id: str, document_id: str, terms: Collection[str]) -> CorpusCounts:
        """Adds the document's distinct `terms` to the owner's corpus unless this document was
        already counted (so re-analysing an insight changes nothing; an empty `document_id` is
        never counted), then returns the owner's document count and the frequency of each term.

        Raises services.common.errors.Unavailable when the store cannot be reached.
        """

    async def close(self) -> None: ...
