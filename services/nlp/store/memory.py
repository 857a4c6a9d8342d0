"""CorpusStats kept in this process's memory: for tests and throwaway single-process runs."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Collection

from services.nlp.domain.models import CorpusCounts


class MemoryCorpusStats:
    def __init__(self) -> None:
        self._documents: defaultdict[str, set[str]] = defaultdict(set)
        self._frequencies: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._lock = asyncio.Lock()

    async def count(self, owner_id: str, document_id: str, terms: Collection[str]) -> CorpusCounts:
        async with self._lock:
            documents = self._documents[owner_id]
            frequencies = self._frequencies[owner_id]
            if document_id and document_id not in documents:
                documents.add(document_id)
                frequencies.update(set(terms))
            return CorpusCounts(
                document_count=len(documents),
                document_frequency={term: frequencies[term] for term in set(terms)},
            )

    async def close(self) -> None:
        return None
