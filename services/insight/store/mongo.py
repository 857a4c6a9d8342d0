"""MongoInsightStore: the scale-out adapter, over PyMongo's async API (MongoDB, or FerretDB).

Collections of the database:

- `users`: {_id: user id, email (unique), password_hash, display_name, create_us}.
- `insights`: one document per insight, _id = insight id. Times are int64 microseconds since the
  epoch, as in SqliteInsightStore, so ordering and ties are the same. `text_folded` is
  `text.casefold()`, what the query filter searches (SQLite folds with the same function).
  `audio_blob` ({key, chunks, size}) names the chunks of the insight's voice note.
- `insight_audio`: voice notes in chunks (mongo_audio.py).
- `graph_removals`: the outbox of deleted insights whose graph nodes must still go.

No user value is ever read as a query operator: every value placed in a filter is checked to be
a plain str or int first (anything else is InvalidArgument), and query words become regular
expressions in which every ASCII character other than a letter or digit is written as an
`\\x{..}` escape, so a word matches only its own characters, in PCRE (MongoDB) as in RE2
(FerretDB).

There are no multi-document transactions (FerretDB v1 has none), so each write that touches
more than one document is ordered so that a failure between any two steps loses nothing:

- add_insight writes the voice-note chunks first, under a fresh random key, then the insight,
  which names that key. The insight is the commit point: until it exists the chunks are
  unreachable, so a failure in between leaves unreachable chunks, never an insight whose voice
  note is missing, and a re-used insight id can never reach an earlier insight's audio.
- delete_insight records the graph removal first, then deletes the insight, then its chunks.
  A failure after the record leaves a record whose insight still exists: pending_graph_removals
  skips records whose insight still exists, so that graph node is not removed, and the record
  becomes due when a later delete succeeds. A failure after the insight's delete leaves the
  record (the graph node goes) and at worst unreachable chunks. So a deleted insight's graph
  node is always removed eventually, and a live insight's never.

replace_insight (a compare-and-set on `version`) is atomic on MongoDB. FerretDB v1 finds, then
writes, so racing compare-and-sets can both win; the adapter's own callers take turns per insight,
which leaves writers in different processes exposed, on FerretDB only.
"""

from __future__ import annotations

import uuid
from typing import Final

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConfigurationError,
    DuplicateKeyError,
)

from services.common.clock import from_micros, to_micros, utc_now
from services.common.errors import AlreadyExists, InvalidArgument, Unavailable
from services.common.keyed_lock import KeyedLock
from services.insight.domain.models import (
    Insight,
    InsightFilter,
    InsightPage,
    NewAccount,
    PageCursor,
    Status,
    User,
)
from services.insight.store.mongo_audio import COLLECTION as AUDIO_COLLECTION
from services.insight.store.mongo_audio import DEFAULT_CHUNK_BYTES, AudioChunks
from services.insight.store.mongo_documents import (
    Document,
    checked_integer,
    checked_micros,
    checked_text,
    insight_document,
    insight_filter,
    insight_from_document,
    parse_read_preference,
    parse_write_concern,
    translate_errors,
)

DEFAULT_DATABASE: Final = "insight"
# Read without these: they serve queries and the voice note, not the domain.
_INSIGHT_PROJECTION: Final = {"text_folded": False, "audio_blob": False}
_STALE_STATUSES: Final = (Status.PENDING.value, Status.PROCESSING.value)


class MongoInsightStore:
    def __init__(
        self,
        uri: str,
        database: str | None = None,
        *,
        write_concern: str = "majority",
        read_preference: str = "primary",
        server_selection_timeout_ms: int = 10_000,
        audio_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        """`database` defaults to the one the URI names, else "insight"."""
        if not 0 < audio_chunk_bytes <= 8 * 1024 * 1024:
            raise ValueError("audio_chunk_bytes must be between 1 byte and 8 MiB")
        self._uri = uri
        self._database_name = database
        self._write_concern = parse_write_concern(write_concern)
        self._read_preference = parse_read_preference(read_preference)
        self._server_selection_timeout_ms = server_selection_timeout_ms
        self._audio_chunk_bytes = audio_chunk_bytes
        self._client: AsyncMongoClient[Document] | None = None
        self._db: AsyncDatabase[Document] | None = None
        self._replacing = KeyedLock()

    # --- connection and schema ---

    @property
    def _database(self) -> AsyncDatabase[Document]:
        if self._db is None:
            raise Unavailable("insight store is not open")
        return self._db

    @property
    def _users(self) -> AsyncCollection[Document]:
        return self._database["users"]

    @property
    def _insights(self) -> AsyncCollection[Document]:
        return self._database["insights"]

    @property
    def _audio(self) -> AudioChunks:
        return AudioChunks(self._database[AUDIO_COLLECTION], self._audio_chunk_bytes)

    @property
    def _removals(self) -> AsyncCollection[Document]:
        return self._database["graph_removals"]

    @translate_errors
    async def open(self) -> None:
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            self._uri,
            serverSelectionTimeoutMS=self._server_selection_timeout_ms,
            appname="insight",
        )
        try:
            try:
                default = client.get_default_database(DEFAULT_DATABASE)
                name = self._database_name or default.name
            except ConfigurationError:
                name = self._database_name or DEFAULT_DATABASE
            db = client.get_database(
                name, write_concern=self._write_concern, read_preference=self._read_preference
            )
            await self._create_indexes(db)
        except BaseException:
            await client.close()
            raise
        self._client, self._db = client, db

    @staticmethod
    async def _create_indexes(db: AsyncDatabase[Document]) -> None:
        """Idempotent: creating an index that exists with the same keys and options is a no-op."""
        await db["users"].create_index([("email", ASCENDING)], unique=True, name="users_email")
        insights = db["insights"]
        await insights.create_index(
            [("owner_id", ASCENDING), ("create_us", DESCENDING), ("_id", DESCENDING)],
            name="insights_owner_time",
        )
        await insights.create_index(
            [("owner_id", ASCENDING), ("tags", ASCENDING)], name="insights_owner_tags"
        )
        await insights.create_index(
            [("owner_id", ASCENDING), ("theme", ASCENDING)], name="insights_owner_theme"
        )
        await insights.create_index(
            [("status", ASCENDING), ("update_us", ASCENDING)], name="insights_status_update"
        )
        await db[AUDIO_COLLECTION].create_index(
            [("key", ASCENDING), ("n", ASCENDING)], name="insight_audio_key_n"
        )
        await db["graph_removals"].create_index(
            [("create_us", ASCENDING)], name="graph_removals_time"
        )

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    # --- accounts ---

    @translate_errors
    async def add_user(self, account: NewAccount) -> User:
        document = {
            "_id": checked_text(account.id, "id"),
            "email": checked_text(account.email, "email"),
            "password_hash": checked_text(account.password_hash, "password_hash"),
            "display_name": checked_text(account.display_name, "display_name"),
            "create_us": checked_micros(account.create_time, "create_time"),
        }
        try:
            await self._users.insert_one(document)
        except DuplicateKeyError as exc:
            raise AlreadyExists("this email is already registered") from exc
        return User(account.id, account.email, account.display_name, account.create_time)

    @translate_errors
    async def find_credentials(self, email: str) -> tuple[User, str] | None:
        doc = await self._users.find_one({"email": checked_text(email, "email")})
        if doc is None:
            return None
        user = User(
            str(doc["_id"]),
            str(doc["email"]),
            str(doc["display_name"]),
            from_micros(int(doc["create_us"])),
        )
        return user, str(doc["password_hash"])

    # --- insights ---

    @translate_errors
    async def add_insight(self, insight: Insight, audio: bytes | None = None) -> None:
        document: Document = {
            "_id": checked_text(insight.id, "id"),
            "owner_id": checked_text(insight.owner_id, "owner_id"),
            **insight_document(insight),
            "audio_blob": None,
        }
        key = None
        if audio is not None:
            key = uuid.uuid4().hex
            chunks = await self._audio.write(key, insight.id, bytes(audio))
            document["audio_blob"] = {"key": key, "chunks": chunks, "size": Int64(len(audio))}
        try:
            await self._insights.insert_one(document)
        except DuplicateKeyError as exc:
            if key is not None:
                await self._audio.drop(key)
            raise AlreadyExists("this insight already exists") from exc

    @translate_errors
    async def get_insight(self, owner_id: str, insight_id: str) -> Insight | None:
        doc = await self._insights.find_one(
            {
                "_id": checked_text(insight_id, "insight_id"),
                "owner_id": checked_text(owner_id, "owner_id"),
            },
            projection=_INSIGHT_PROJECTION,
        )
        return insight_from_document(doc) if doc else None

    @translate_errors
    async def get_insight_any_owner(self, insight_id: str) -> Insight | None:
        doc = await self._insights.find_one(
            {"_id": checked_text(insight_id, "insight_id")}, projection=_INSIGHT_PROJECTION
        )
        return insight_from_document(doc) if doc else None

    @translate_errors
    async def get_audio(self, insight_id: str) -> bytes | None:
        insight_id = checked_text(insight_id, "insight_id")
        blob = await self._audio_blob(insight_id)
        if blob is None:
            return None
        key = str(blob["key"])
        data = await self._audio.read(key, int(blob["chunks"]))
        if data is None:
            # Deleted meanwhile (the chunks go after the insight), or damaged.
            again = await self._audio_blob(insight_id)
            if again is None or again["key"] != key:
                return None
            raise Unavailable("the voice note is incomplete")
        return data

    async def _audio_blob(self, insight_id: str) -> Document | None:
        doc = await self._insights.find_one({"_id": insight_id}, projection={"audio_blob": True})
        blob = doc.get("audio_blob") if doc else None
        return blob if isinstance(blob, dict) else None

    @translate_errors
    async def list_insights(
        self, owner_id: str, where: InsightFilter, page_size: int, after: PageCursor | None
    ) -> InsightPage:
        page_size = int(checked_integer(page_size, "page_size"))
        if page_size <= 0:
            raise InvalidArgument.field("page_size", "must be positive")
        condition = insight_filter(owner_id, where)
        total = await self._insights.count_documents(condition)
        page_condition = condition
        if after is not None:
            after_us = checked_micros(after.create_time, "page_token")
            after_id = checked_text(after.insight_id, "page_token")
            page_condition = {
                "$and": [
                    condition,
                    {
                        "$or": [
                            {"create_us": {"$lt": after_us}},
                            {"create_us": after_us, "_id": {"$lt": after_id}},
                        ]
                    },
                ]
            }
        cursor = (
            self._insights.find(page_condition, projection=_INSIGHT_PROJECTION)
            .sort([("create_us", DESCENDING), ("_id", DESCENDING)])
            .limit(page_size + 1)
        )
        docs = [doc async for doc in cursor]
        insights = [insight_from_document(doc) for doc in docs[:page_size]]
        next_cursor = None
        if len(docs) > page_size:
            last = insights[-1]
            next_cursor = PageCursor(last.create_time, last.id)
        return InsightPage(insights=insights, next_cursor=next_cursor, total_size=total)

    @translate_errors
    async def replace_insight(self, insight: Insight, expected_version: int) -> bool:
        selector = {
            "_id": checked_text(insight.id, "id"),
            "owner_id": checked_text(insight.owner_id, "owner_id"),
            "version": checked_integer(expected_version, "expected_version"),
        }
        # Not needed on MongoDB; on FerretDB v1 (module docstring).
        async with self._replacing.hold(insight.id):
            result = await self._insights.update_one(selector, {"$set": insight_document(insight)})
        return result.matched_count == 1

    @translate_errors
    async def delete_insight(self, owner_id: str, insight_id: str) -> bool:
        # The order of the steps is what keeps this safe without a transaction: module docstring.
        mine = {
            "_id": checked_text(insight_id, "insight_id"),
            "owner_id": checked_text(owner_id, "owner_id"),
        }
        if await self._insights.find_one(mine, projection={"_id": True}) is None:
            return False
        await self._removals.update_one(
            {"_id": insight_id},
            {"$set": {"owner_id": owner_id, "create_us": Int64(to_micros(utc_now()))}},
            upsert=True,
        )
        deleted = await self._insights.find_one_and_delete(mine)
        if deleted is None:
            return False  # a concurrent delete won; the removal record stands for both
        blob = deleted.get("audio_blob")
        if isinstance(blob, dict):
            await self._audio.drop(str(blob["key"]))
        return True

    @translate_errors
    async def pending_graph_removals(self, limit: int) -> list[tuple[str, str]]:
        limit = int(checked_integer(limit, "limit"))
        if limit <= 0:
            return []
        due: list[tuple[str, str]] = []
        batch: list[tuple[str, str]] = []
        cursor = self._removals.find({}, projection={"owner_id": True}).sort(
            [("create_us", ASCENDING), ("_id", ASCENDING)]
        )
        try:
            async for doc in cursor:
                batch.append((str(doc["_id"]), str(doc["owner_id"])))
                if len(batch) == limit:
                    due += await self._deleted_only(batch)
                    batch = []
                    if len(due) >= limit:
                        break
        finally:
            await cursor.close()
        if batch:
            due += await self._deleted_only(batch)
        return due[:limit]

    async def _deleted_only(self, records: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The records whose insight is gone: one still there is a delete that has not happened
        (yet, or ever: it failed after writing the record)."""
        ids = [insight_id for insight_id, _ in records]
        alive = {
            str(doc["_id"])
            async for doc in self._insights.find({"_id": {"$in": ids}}, projection={"_id": True})
        }
        return [record for record in records if record[0] not in alive]

    @translate_errors
    async def forget_graph_removal(self, insight_id: str) -> None:
        await self._removals.delete_one({"_id": checked_text(insight_id, "insight_id")})

    @translate_errors
    async def list_stale(self, updated_before_us: int, limit: int) -> list[tuple[str, int]]:
        limit = int(checked_integer(limit, "limit"))
        if limit <= 0:
            return []
        cursor = (
            self._insights.find(
                {
                    "status": {"$in": list(_STALE_STATUSES)},
                    "update_us": {"$lt": checked_integer(updated_before_us, "updated_before_us")},
                },
                projection={"version": True},
            )
            .sort("update_us", ASCENDING)
            .limit(limit)
        )
        return [(str(doc["_id"]), int(doc["version"])) async for doc in cursor]
