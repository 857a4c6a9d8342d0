"""Voice notes in MongoDB: the `insight_audio` collection holds each note in chunks of at most
`chunk_bytes` (a document may not exceed 16 MiB; a voice note may be 25 MB), _id = "<key>:<n>",
under a random key that the insight's `audio_blob` ({key, chunks, size}) names. MongoInsightStore
decides when chunks are written and dropped (its docstring: the order that makes it safe)."""

from __future__ import annotations

from typing import Final

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.insight.store.mongo_documents import Document

COLLECTION: Final = "insight_audio"
DEFAULT_CHUNK_BYTES: Final = 4 * 1024 * 1024


class AudioChunks:
    def __init__(self, collection: AsyncCollection[Document], chunk_bytes: int) -> None:
        self._collection = collection
        self._chunk_bytes = chunk_bytes

    async def write(self, key: str, insight_id: str, data: bytes) -> int:
        """Writes the chunks one by one (a 25 MB note in one batch would gain nothing and come
        close to the 48 MB one message may carry); returns how many."""
        count = 0
        for n, start in enumerate(range(0, len(data), self._chunk_bytes)):
            await self._collection.insert_one(
                {
                    "_id": f"{key}:{n}",
                    "key": key,
                    "n": n,
                    "insight_id": insight_id,
                    "data": data[start : start + self._chunk_bytes],
                }
            )
            count += 1
        return count

    async def read(self, key: str, expected_chunks: int) -> bytes | None:
        """The note, or None when its chunks are not all there (deleted meanwhile, or damaged:
        the caller tells which)."""
        cursor = self._collection.find({"key": key}, projection={"n": True, "data": True}).sort(
            "n", ASCENDING
        )
        chunks = [chunk async for chunk in cursor]
        if [int(chunk["n"]) for chunk in chunks] != list(range(expected_chunks)):
            return None
        return b"".join(bytes(chunk["data"]) for chunk in chunks)

    async def drop(self, key: str) -> None:
        await self._collection.delete_many({"key": key})
