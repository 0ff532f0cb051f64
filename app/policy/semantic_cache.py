"""The semantic cache (off by default): a new question → the digest of a cached answer to
an earlier question that means the same, so ``ResponseCache.get`` serves it.

Only single-turn requests take part, and only their (one) user message is embedded: in a
conversation the last message leans on the history ("and in Germany?"), so alone it
does not say what is asked, and embedding the whole history would let a long shared
context outweigh the question that differs. Everything else the answer depends on, the
model tier, the system prompt and the generation parameters, must match exactly: it
forms the partition (``scope_of``) the question is compared within.

A hit needs both a calibrated similarity at or above the tenant's threshold
(``CachePolicy.semantic_threshold``, see ``embedding``) and no conflict from the lexical
guards (``semantic_guard``: numbers, negation, dates, opposites, word order), which
catch the near misses no threshold separates from paraphrases.

Storage, per tenant (``T`` escaped as in ``response_cache``; invalidating the tenant
drops these too):

    ns:T:v:<partition>  HASH entry id → packed record (digest, expiry, question, vector)
    ns:T:vo             ZSET "<partition>:<entry id>" by insertion: the oldest beyond
                        ``max_entries`` are evicted, across all of the tenant's partitions
    ns:T:vseq           the insertion counter

A lookup reads its partition's records (at most ``max_entries``, ~1.6 KB each) and
compares them in process. Redis trouble is a miss, as in the response cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import redis.asyncio

from frugalflow.events import RequestEvent
from frugalflow.metrics import CACHE_REQUESTS
from frugalflow.policy.embedding import Embedder, Vector, default_embedder
from frugalflow.policy.models import CachePolicy
from frugalflow.policy.response_cache import (
    DEFAULT_COOLDOWN_S,
    DEFAULT_TIMEOUT_S,
    NAMESPACE,
    CacheUnavailable,
    FailSoft,
    normalize_text,
    tenant_prefix,
)
from frugalflow.policy.semantic_guard import QuestionFeatures, conflicts

DEFAULT_THRESHOLD = CachePolicy().semantic_threshold
MAX_QUESTION_CHARS = 1000  # longer prompts are rarely re-asked in other words
DEFAULT_MAX_ENTRIES = 256
DEFAULT_ENTRY_TTL_S = 3600

_HEADER = struct.Struct("<32sdI")  # digest (raw sha-256), expires at (epoch s), text bytes

_ADD = """
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], seq, ARGV[6] .. ':' .. ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if excess > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    local sep = string.find(member, ':', 1, true)
    redis.call('HDEL', ARGV[5] .. string.sub(member, 1, sep - 1), string.sub(member, sep + 1))
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
local ttl = tonumber(ARGV[4])
for i = 1, 3 do
  if redis.call('TTL', KEYS[i]) < ttl then
    redis.call('EXPIRE', KEYS[i], ttl)
  end
end
return math.max(excess, 0)
"""


class SemanticHit(NamedTuple):
    digest: str
    similarity: float


def question_of(request: RequestEvent) -> str | None:
    """The text to embed: the only message of a single-turn request, normalized; None when
    the request cannot take part (several messages, or a question too long)."""
    if len(request.messages) != 1:
        return None
    text = " ".join(normalize_text(request.messages[0].content).split())
    return text if 0 < len(text) <= MAX_QUESTION_CHARS else None


def scope_of(request: RequestEvent, tier: str) -> str:
    """The partition a question is compared within: the tier, the normalized system
    prompt and the generation parameters (what ``cache_digest`` hashes besides it)."""
    system = None if request.system is None else normalize_text(request.system)
    context = repr((system, request.max_tokens, request.temperature))
    return f"{tier}/{hashlib.sha256(context.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


class _Record(NamedTuple):
    entry_id: str
    digest: str
    expires_at: float
    text: str
    vector: Vector


class SemanticCache:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        embedder: Embedder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        namespace: str = NAMESPACE,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        entry_ttl_s: int = DEFAULT_ENTRY_TTL_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.embedder = embedder or default_embedder()
        self.threshold = threshold
        self.namespace = namespace
        self.max_entries = max_entries
        self.entry_ttl_s = entry_ttl_s
        self._clock = clock
        self._redis = FailSoft("semantic", timeout_s=timeout_s, cooldown_s=cooldown_s)
        self._add_script = client.register_script(_ADD)

    # --- the request-level entry points

    async def lookup_request(
        self, request: RequestEvent, tier: str, *, threshold: float | None = None
    ) -> SemanticHit | None:
        question = question_of(request)
        if question is None:
            return None
        return await self.lookup(
            request.tenant_id, scope_of(request, tier), question, threshold=threshold
        )

    async def add_request(
        self, request: RequestEvent, tier: str, digest: str, *, ttl_s: int | None = None
    ) -> None:
        question = question_of(request)
        if question is not None:
            scope = scope_of(request, tier)
            await self.add(request.tenant_id, scope, question, digest, ttl_s=ttl_s)

    # --- the primitives: ``tier`` is the partition; pass ``scope_of(request, tier)``
    # unless the system prompt and parameters are known to be the same.

    async def lookup(
        self, tenant_id: str, tier: str, text: str, *, threshold: float | None = None
    ) -> SemanticHit | None:
        """The digest of the most similar earlier question that passes the guards, with its
        similarity; None on a miss or any trouble (Redis, the model)."""
        limit = self.threshold if threshold is None else threshold
        text = _canonical(text)
        vector = await self._embed(text)
        if vector is None:
            return None
        key = self._partition_key(tenant_id, tier)
        try:
            raw: dict[bytes | str, bytes | str] = await self._redis.run(
                "read", lambda: self.client.hgetall(key)
            )
        except CacheUnavailable:
            return None
        now = self._clock()
        records = [r for r in map(_unpack, raw.items()) if r is not None]
        live = [r for r in records if r.expires_at > now and r.vector.shape == vector.shape]
        expired = [r.entry_id for r in records if r.expires_at <= now]
        if expired:
            await self._forget(tenant_id, tier, expired)
        hit = self._best(text, vector, live, limit)
        CACHE_REQUESTS.labels(cache="semantic", result="miss" if hit is None else "hit").inc()
        return hit

    def _best(
        self, text: str, vector: Vector, records: list[_Record], limit: float
    ) -> SemanticHit | None:
        if not records:
            return None
        matrix = np.stack([r.vector for r in records])
        similarities = self.embedder.similarity(matrix @ vector)
        features = QuestionFeatures.of(text)
        for i in np.argsort(-similarities, kind="stable"):
            if similarities[i] < limit:
                break
            if not conflicts(features, QuestionFeatures.of(records[i].text)):
                return SemanticHit(records[i].digest, float(similarities[i]))
        return None

    async def add(
        self, tenant_id: str, tier: str, text: str, digest: str, *, ttl_s: int | None = None
    ) -> None:
        """Remember that ``text`` is answered by the entry ``digest`` for ``ttl_s`` (pass
        the answer's TTL). Evicts the tenant's oldest questions beyond ``max_entries``.
        Never raises."""
        ttl = self.entry_ttl_s if ttl_s is None else ttl_s
        if ttl <= 0 or len(digest) != 64:
            return
        text = _canonical(text)
        vector = await self._embed(text)
        if vector is None:
            return
        encoded = text.encode("utf-8", "replace")
        record = (
            _HEADER.pack(bytes.fromhex(digest), self._clock() + ttl, len(encoded))
            + encoded
            + vector.astype("<f4").tobytes()
        )
        prefix = tenant_prefix(tenant_id, self.namespace)
        partition = _partition_id(self.embedder.model_id, tier)
        keys = [f"{prefix}v:{partition}", f"{prefix}vo", f"{prefix}vseq"]
        args: list[Any] = [_entry_id(text), record, self.max_entries, ttl, f"{prefix}v:", partition]
        try:
            await self._redis.run("write", lambda: self._add_script(keys=keys, args=args))
        except CacheUnavailable:
            return

    # --- helpers

    async def _embed(self, text: str) -> Vector | None:
        try:
            return await asyncio.to_thread(self.embedder.embed, text)
        except (ValueError, OSError, ImportError, RuntimeError) as exc:
            self._redis.failed("embedding", exc)  # a model trouble is a miss too
            return None

    async def _forget(self, tenant_id: str, tier: str, entry_ids: list[str]) -> None:
        partition = _partition_id(self.embedder.model_id, tier)
        prefix = tenant_prefix(tenant_id, self.namespace)

        async def drop() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hdel(f"{prefix}v:{partition}", *entry_ids)
                pipe.zrem(f"{prefix}vo", *(f"{partition}:{e}" for e in entry_ids))
                await pipe.execute()

        try:
            await self._redis.run("cleanup", drop)
        except CacheUnavailable:
            return

    def _partition_key(self, tenant_id: str, tier: str) -> str:
        partition = _partition_id(self.embedder.model_id, tier)
        return f"{tenant_prefix(tenant_id, self.namespace)}v:{partition}"


def _canonical(text: str) -> str:
    """What is embedded and compared: lower case, single spaces (case and spacing rarely
    change what a question asks, and they move e5 vectors noticeably)."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def _partition_id(model_id: str, tier: str) -> str:
    """Hex, so it never holds the ``:`` separating it from the entry id in ``vo``; with the
    model in it, vectors of another model are never compared."""
    scope = f"{model_id}\x00{tier}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(scope).hexdigest()[:32]


def _entry_id(text: str) -> str:
    """The same question asked again replaces its entry instead of adding one."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _unpack(item: tuple[bytes | str, bytes | str]) -> _Record | None:
    field, value = (v.encode() if isinstance(v, str) else v for v in item)
    try:
        raw_digest, expires_at, size = _HEADER.unpack_from(value)
        start = _HEADER.size
        text = value[start : start + size].decode("utf-8")
        vector = np.frombuffer(value[start + size :], dtype="<f4").astype(np.float32)
    except (struct.error, UnicodeDecodeError, ValueError):
        return None  # not ours, or another layout: ignored, evicted in time
    return _Record(field.decode("ascii", "replace"), raw_digest.hex(), expires_at, text, vector)
