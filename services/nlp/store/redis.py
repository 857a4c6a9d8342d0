"""CorpusStats in Redis: per owner, a set of counted document ids and a hash of term -> df.

Keys: nlp:corpus:{<owner>}:docs (SET) and nlp:corpus:{<owner>}:df (HASH). The braces are a hash
tag, so both keys of an owner live on one Redis Cluster slot. Counting and reading happen in one
Lua script, atomically: the SADD guard means a document's terms are added at most once, even when
two workers analyse the same insight at the same moment.
"""

from __future__ import annotations

from collections.abc import Collection

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import Unavailable
from services.nlp.domain.models import CorpusCounts

# KEYS: docs set, df hash. ARGV: document id ('' = read only), then the distinct terms.
_COUNT_SCRIPT = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  for i = 2, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
end
local result = {redis.call('SCARD', KEYS[1])}
if #ARGV > 1 then
  local df = redis.call('HMGET', KEYS[2], unpack(ARGV, 2))
  for i = 1, #df do result[i + 1] = df[i] or '0' end
end
return result
"""


def _keys(owner_id: str) -> list[str]:
    prefix = f"nlp:corpus:{{{owner_id}}}"
    return [f"{prefix}:docs", f"{prefix}:df"]


class RedisCorpusStats:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_COUNT_SCRIPT)

    async def count(self, owner_id: str, document_id: str, terms: Collection[str]) -> CorpusCounts:
        distinct = sorted(set(terms))
        try:
            reply = await self._script(keys=_keys(owner_id), args=[document_id, *distinct])
        except RedisError as exc:
            raise Unavailable("the corpus statistics store is unavailable") from exc
        values = [int(value) for value in reply]
        return CorpusCounts(
            document_count=values[0],
            document_frequency=dict(zip(distinct, values[1:], strict=True)),
        )

    async def close(self) -> None:
        await self._redis.aclose()
