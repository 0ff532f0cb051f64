"""The response cache: answers to identical requests, per tenant, in Redis.

A request's key is its tenant plus ``cache_digest`` (model tier, normalized system prompt,
messages and generation parameters). Key layout, ``ns`` being the namespace (``ff:rc``):

    ns:T:a:<digest>   the fresh answer: HASH {answer: <CachedAnswer JSON>, user: <user id|"">},
                      expiring after the request's TTL (``ttl_for``)
    ns:T:s:<digest>   the stale copy, same HASH, kept ``stale_ttl_s``: served only as a
                      flagged fallback (``get_stale``), never as a normal hit
    ns:T:u:<user>     SET of the digests that user's requests wrote, kept as long as the
                      longest of them, so one user's entries can be invalidated
    ns:T:v... / ns:T:vo / ns:T:vseq   the semantic cache's vectors (``semantic_cache``)

``T`` is the tenant id with ``%`` and ``:`` percent-escaped, so it never holds a ``:``:
no tenant's prefix ``ns:T:`` can be the start of another tenant's key, and SCAN patterns
escape the glob characters (``*?[]\\``) a tenant id may contain.

Failure model: Redis is an optimisation. On the request path (``get``, ``get_stale``,
``put``) every Redis error, a socket timeout or an operation slower than ``timeout_s`` is
a miss or a no-op: counted (``CACHE_REQUESTS{result="error"}``), logged at most every
``LOG_EVERY_S``, and Redis is left alone for ``cooldown_s`` so a dead server costs
requests nothing. Invalidation is an operator's action instead: it raises
``CacheUnavailable`` so the admin API can answer 503 rather than pretend it worked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import redis.asyncio
import redis.asyncio.retry
from pydantic import BaseModel, ValidationError
from redis.backoff import NoBackoff

from frugalflow.events import RequestEvent, UsageOut
from frugalflow.metrics import CACHE_REQUESTS
from frugalflow.policy.models import CachePolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMESPACE = "ff:rc"
DEFAULT_TIMEOUT_S = 0.05  # a cache lookup must cost a request tens of ms at worst
DEFAULT_COOLDOWN_S = 1.0  # after a failure, skip Redis this long (misses, no waiting)
LOG_EVERY_S = 30.0
SCAN_COUNT = 1000
# Above this temperature the caller asks for variety: a replayed sample would defeat it.
# The providers' default is 1.0, so a request without a temperature is cacheable.
MAX_CACHEABLE_TEMPERATURE = 1.0
MAX_TTL_S = 30 * 86400  # a request's own cache_ttl_s is capped here
DIGEST_VERSION = 1  # bump when the digest's input changes shape: old entries then miss

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_INNER_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class CacheUnavailable(Exception):
    """Redis could not be reached (or answered too slowly); raised by invalidation only."""


class CachedAnswer(BaseModel):
    content: str
    provider: str
    model: str
    usage: UsageOut
    created_at: datetime


# --- what is cached, and for how long


def ttl_for(request: RequestEvent, policy: CachePolicy) -> int:
    """Seconds an ``ok`` answer to ``request`` stays fresh; 0 = do not cache it.

    The tenant's switch wins (``policy.enabled``); then the request's ``cache_ttl_s``
    (0 disables, larger values are capped at ``MAX_TTL_S``); then, with no request TTL,
    a temperature above ``MAX_CACHEABLE_TEMPERATURE`` disables caching, and otherwise
    the use case's TTL applies (``policy.default_ttl_s`` for an unknown or missing one).
    """
    if not policy.enabled:
        return 0
    if request.cache_ttl_s is not None:
        return min(request.cache_ttl_s, MAX_TTL_S)
    if request.temperature is not None and request.temperature > MAX_CACHEABLE_TEMPERATURE:
        return 0
    if request.use_case is not None and request.use_case in policy.ttl_s_by_use_case:
        return max(0, policy.ttl_s_by_use_case[request.use_case])
    return policy.default_ttl_s


def normalize_text(text: str) -> str:
    """Unicode NFC, line ends unified, runs of spaces inside a line collapsed, trailing
    spaces and extra blank lines dropped, the whole stripped.

    Indentation is kept: in code it is meaning, and two programs must not share an answer.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for line in text.split("\n"):
        body = line.rstrip()
        stripped = body.lstrip()
        lines.append(body[: len(body) - len(stripped)] + _INNER_SPACE.sub(" ", stripped))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def cache_digest(request: RequestEvent, tier: str) -> str:
    """SHA-256 (hex) of what determines the answer: the model tier, the normalized system
    prompt and messages (role and content), ``max_tokens`` and ``temperature``.

    Never the request id, user, metadata, priority, deadline or attribution: requests
    that differ only there get the same answer.
    """
    canonical = [
        DIGEST_VERSION,
        tier,
        None if request.system is None else normalize_text(request.system),
        [[m.role, normalize_text(m.content)] for m in request.messages],
        request.max_tokens,
        request.temperature,
    ]
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


# --- keys


def key_part(value: str) -> str:
    """An id as a key part: ``%`` and ``:`` percent-escaped, lone surrogates (which JSON
    can smuggle in and UTF-8 cannot encode) as ``%uXXXX``. Reversible, never a ``:``."""
    escaped = value.replace("%", "%25").replace(":", "%3A")
    return _SURROGATE.sub(lambda m: f"%u{ord(m.group()):04X}", escaped)


def tenant_prefix(tenant_id: str, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:{key_part(tenant_id)}:"


def tenant_pattern(tenant_id: str, namespace: str = NAMESPACE) -> str:
    """The SCAN MATCH pattern of every key of the tenant, glob characters escaped."""
    return _GLOB_SPECIAL.sub(r"\\\1", tenant_prefix(tenant_id, namespace)) + "*"


def redis_client(url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> redis.asyncio.Redis:
    """A client for the request path: short socket timeouts and no retries, so a dead or
    hung Redis turns into a quick miss instead of a stalled request."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=redis.asyncio.retry.Retry(NoBackoff(), 0),
    )


# --- failing soft


class FailSoft:
    """Runs Redis operations of one cache under a deadline, turning failures into
    ``CacheUnavailable``: counted, logged at most every ``LOG_EVERY_S``, followed by a
    cooldown during which Redis is not tried at all."""

    def __init__(self, cache: str, *, timeout_s: float, cooldown_s: float) -> None:
        self.cache = cache
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self._skip_until = 0.0
        self._last_log = -LOG_EVERY_S
        self._unlogged = 0

    async def run(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        if time.monotonic() < self._skip_until:
            self.failed(what, None)
            raise CacheUnavailable(f"{self.cache} cache: Redis is cooling down")
        try:
            async with asyncio.timeout(self.timeout_s):
                return await operation()
        except redis.ResponseError as exc:  # Redis answered (a refused command): no outage
            self.failed(what, exc)
            raise CacheUnavailable(f"{self.cache} cache: {type(exc).__name__}") from None
        except (redis.RedisError, OSError, TimeoutError) as exc:
            self._skip_until = time.monotonic() + self.cooldown_s
            self.failed(what, exc)
            raise CacheUnavailable(f"{self.cache} cache: {type(exc).__name__}") from None

    def failed(self, what: str, exc: BaseException | None) -> None:
        """Count a failure and log it unless one was logged less than LOG_EVERY_S ago."""
        CACHE_REQUESTS.labels(cache=self.cache, result="error").inc()
        now = time.monotonic()
        if exc is None or now - self._last_log < LOG_EVERY_S:
            self._unlogged += 1
            return
        # The exception's class only: its text may carry a host name, never needed here.
        log.warning(
            "%s cache: Redis %s failed (%s); serving misses (%d more failures since the "
            "last report)", self.cache, what, type(exc).__name__, self._unlogged,
        )  # fmt: skip
        self._last_log = now
        self._unlogged = 0


# --- the cache

_PUT = """
redis.call('HSET', KEYS[1], 'answer', ARGV[1], 'user', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', KEYS[2], 'answer', ARGV[1], 'user', ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
if ARGV[2] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[5])
  local keep = math.max(tonumber(ARGV[3]), tonumber(ARGV[4]))
  if redis.call('TTL', KEYS[3]) < keep then
    redis.call('EXPIRE', KEYS[3], keep)
  end
end
return 1
"""

# Deletes the entries the user's requests wrote, unless another request rewrote them since.
_INVALIDATE_USER = """
local deleted = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for _, kind in ipairs({'a:', 's:'}) do
    local key = ARGV[2] .. kind .. digest
    if redis.call('HGET', key, 'user') == ARGV[1] then
      deleted = deleted + redis.call('UNLINK', key)
    end
  end
end
return deleted + redis.call('UNLINK', KEYS[1])
"""


class ResponseCache:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        namespace: str = NAMESPACE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._fresh = FailSoft("response", timeout_s=timeout_s, cooldown_s=cooldown_s)
        # Its own breaker: a stale lookup happens when things already go wrong.
        self._stale = FailSoft("response_stale", timeout_s=timeout_s, cooldown_s=cooldown_s)
        self._put_script = client.register_script(_PUT)
        self._invalidate_user_script = client.register_script(_INVALIDATE_USER)

    def _key(self, tenant_id: str, kind: str, part: str) -> str:
        return f"{tenant_prefix(tenant_id, self.namespace)}{kind}:{part}"

    async def get(self, tenant_id: str, digest: str) -> CachedAnswer | None:
        """The fresh answer, or None on a miss or any Redis trouble."""
        return await self._read(self._fresh, self._key(tenant_id, "a", digest))

    async def get_stale(self, tenant_id: str, digest: str) -> CachedAnswer | None:
        """The stale copy (kept ``stale_ttl_s``), for a flagged fallback answer only."""
        return await self._read(self._stale, self._key(tenant_id, "s", digest))

    async def _read(self, breaker: FailSoft, key: str) -> CachedAnswer | None:
        try:
            raw: bytes | str | None = await breaker.run(
                "read", lambda: self.client.hget(key, "answer")
            )
        except CacheUnavailable:
            return None
        if raw is None:
            CACHE_REQUESTS.labels(cache=breaker.cache, result="miss").inc()
            return None
        try:
            answer = CachedAnswer.model_validate_json(raw)
        except ValidationError as exc:  # written by something else, or an older shape
            breaker.failed("decode", exc)
            return None
        CACHE_REQUESTS.labels(cache=breaker.cache, result="hit").inc()
        return answer

    async def put(
        self,
        tenant_id: str,
        user_id: str | None,
        digest: str,
        answer: CachedAnswer,
        *,
        ttl_s: int,
        stale_ttl_s: int,
    ) -> None:
        """Store the fresh answer (``ttl_s``) and its stale copy (``stale_ttl_s``, 0 = none)
        in one atomic script, and index it under the user. Callers store ``ok`` answers
        only; an empty answer or a TTL of 0 stores nothing. Never raises."""
        if ttl_s <= 0 or not answer.content.strip():
            return
        try:
            payload = answer.model_dump_json()
        except ValueError as exc:  # e.g. a lone surrogate in the content: not storable
            self._fresh.failed("encode", exc)
            return
        keys = [
            self._key(tenant_id, "a", digest),
            self._key(tenant_id, "s", digest),
            self._key(tenant_id, "u", key_part(user_id or "")),
        ]
        args: list[Any] = [
            payload,
            key_part(user_id or ""),
            min(ttl_s, MAX_TTL_S),
            max(0, stale_ttl_s),
            digest,
        ]
        try:
            await self._fresh.run("write", lambda: self._put_script(keys=keys, args=args))
        except CacheUnavailable:
            return

    async def invalidate_tenant(self, tenant_id: str) -> int:
        """Delete every key of the tenant (answers, stale copies, indexes, vectors);
        returns how many. Raises ``CacheUnavailable`` when Redis fails."""
        deleted = 0
        chunk: list[bytes] = []
        try:
            pattern = tenant_pattern(tenant_id, self.namespace)
            async for key in self.client.scan_iter(match=pattern, count=SCAN_COUNT):
                chunk.append(key)
                if len(chunk) >= SCAN_COUNT:
                    deleted += await self.client.unlink(*chunk)
                    chunk = []
            if chunk:
                deleted += await self.client.unlink(*chunk)
        except (redis.RedisError, OSError) as exc:
            raise CacheUnavailable(f"Redis failed ({type(exc).__name__})") from None
        return deleted

    async def invalidate_user(self, tenant_id: str, user_id: str) -> int:
        """Delete the fresh and stale entries the user's requests wrote (not those another
        request rewrote since) and the user's index; returns how many keys went.
        Raises ``CacheUnavailable`` when Redis fails."""
        keys = [self._key(tenant_id, "u", key_part(user_id))]
        args = [key_part(user_id), tenant_prefix(tenant_id, self.namespace)]
        try:
            return int(await self._invalidate_user_script(keys=keys, args=args))
        except (redis.RedisError, OSError) as exc:
            raise CacheUnavailable(f"Redis failed ({type(exc).__name__})") from None
