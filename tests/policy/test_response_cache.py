"""The response cache against a real Redis: keys, TTLs, tenant isolation, invalidation by
tenant and by user, and a Redis that dies or hangs in the middle of a test."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio
from prometheus_client import REGISTRY

from frugalflow.events import Message, RequestEvent, UsageOut
from frugalflow.infra.redis_server import LocalRedis
from frugalflow.policy.models import CachePolicy
from frugalflow.policy.response_cache import (
    MAX_CACHEABLE_TEMPERATURE,
    MAX_TTL_S,
    CachedAnswer,
    CacheUnavailable,
    ResponseCache,
    cache_digest,
    normalize_text,
    redis_client,
    ttl_for,
)

DIGEST = "a" * 64
OTHER_DIGEST = "b" * 64
# Ids whose characters mean something to Redis keys (":") or to SCAN patterns (globs).
AWKWARD_TENANTS = ["acme", "acme:b", "acme:", "acme*", "acme?", "[acme]", "acme\\", "ac%3Ame", "a*"]


def request(**fields: Any) -> RequestEvent:
    values: dict[str, Any] = {
        "event_type": "NEW_RECORD",
        "request_id": "r-1",
        "tenant_id": "acme",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 100,
        **fields,
    }
    return RequestEvent.model_validate(values)


def answer(content: str = "Paris.") -> CachedAnswer:
    return CachedAnswer(
        content=content,
        provider="anthropic",
        model="claude-haiku-4-5",
        usage=UsageOut(input_tokens=12, output_tokens=3, cache_read_tokens=5),
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def errors(cache: str = "response") -> float:
    value = REGISTRY.get_sample_value(
        "frugalflow_cache_requests_total", {"cache": cache, "result": "error"}
    )
    return value or 0.0


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[ResponseCache]:
    # Timeouts far above anything a loaded CI machine needs: these tests judge behaviour.
    client = redis_client(redis_url, timeout_s=5)
    try:
        yield ResponseCache(client, timeout_s=5, namespace=f"t{os.urandom(4).hex()}")
    finally:
        await client.aclose()


# --- ttl_for


@pytest.mark.parametrize(
    ("use_case", "ttl"),
    [("recommendations", 3600), ("scheduling", 7200), ("content", 1800), ("learning_paths", 14400)],
)
def test_use_case_ttls_default_as_the_issue_says(use_case: str, ttl: int) -> None:
    assert ttl_for(request(use_case=use_case), CachePolicy()) == ttl


def test_unknown_or_missing_use_case_gets_the_tenant_default() -> None:
    policy = CachePolicy(default_ttl_s=600)
    assert ttl_for(request(use_case="other"), policy) == 600
    assert ttl_for(request(), policy) == 600


def test_tenant_ttls_are_configurable() -> None:
    policy = CachePolicy(ttl_s_by_use_case={"content": 60})
    assert ttl_for(request(use_case="content"), policy) == 60
    assert ttl_for(request(use_case="scheduling"), policy) == policy.default_ttl_s


def test_request_ttl_overrides_and_zero_disables() -> None:
    assert ttl_for(request(use_case="content", cache_ttl_s=42), CachePolicy()) == 42
    assert ttl_for(request(use_case="content", cache_ttl_s=0), CachePolicy()) == 0
    assert ttl_for(request(cache_ttl_s=10**12), CachePolicy()) == MAX_TTL_S


def test_a_disabled_policy_wins_over_the_request() -> None:
    assert ttl_for(request(cache_ttl_s=42), CachePolicy(enabled=False)) == 0


def test_high_temperature_is_not_cached_unless_the_request_asks() -> None:
    hot = MAX_CACHEABLE_TEMPERATURE + 0.1
    assert ttl_for(request(temperature=hot), CachePolicy()) == 0
    assert ttl_for(request(temperature=MAX_CACHEABLE_TEMPERATURE), CachePolicy()) > 0
    assert ttl_for(request(temperature=hot, cache_ttl_s=30), CachePolicy()) == 30


# --- cache_digest


def test_digest_ignores_whitespace_and_unicode_form() -> None:
    base = cache_digest(request(system="Be brief.\nAnswer in English."), "small")
    assert cache_digest(request(system="  Be   brief. \r\nAnswer in\tEnglish.  "), "small") == base
    one_blank = cache_digest(request(system="Be brief.\n\nAnswer."), "small")
    assert cache_digest(request(system="Be brief.\n \n\n\t\nAnswer."), "small") == one_blank
    composed = request(messages=[{"role": "user", "content": "Caf\u00e9 hours?"}])
    decomposed = request(messages=[{"role": "user", "content": "Cafe\u0301  hours? "}])
    assert cache_digest(composed, "small") == cache_digest(decomposed, "small")


def test_digest_ignores_what_does_not_change_the_answer() -> None:
    base = cache_digest(request(), "small")
    same = request(
        request_id="r-2",
        user_id="u-9",
        metadata={"trace": "x"},
        priority="batch",
        deadline_s=99,
        service="svc",
        use_case="content",
        cache_ttl_s=5,
        created_at="2026-01-01T00:00:00Z",
    )
    assert cache_digest(same, "small") == base


def test_digest_changes_with_what_changes_the_answer() -> None:
    base = cache_digest(request(), "small")
    assert cache_digest(request(), "large") != base
    others = [
        request(system="Be brief."),
        request(messages=[{"role": "user", "content": "What is the capital of Spain?"}]),
        request(max_tokens=101),
        request(temperature=0.0),
        request(
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "What is the capital of France?"},
                {"role": "user", "content": "What is the capital of France?"},
            ]
        ),
    ]
    digests = {cache_digest(r, "small") for r in others}
    assert base not in digests and len(digests) == len(others)
    # A role is part of the message: the same words said by someone else differ.
    said = [Message(role="user", content="a"), Message(role="assistant", content="b")]
    swapped = [Message(role="assistant", content="a"), Message(role="user", content="b")]
    first = request().model_copy(update={"messages": [*said, Message(role="user", content="c")]})
    second = request().model_copy(
        update={"messages": [*swapped, Message(role="user", content="c")]}
    )
    assert cache_digest(first, "small") != cache_digest(second, "small")


def test_indentation_is_meaning() -> None:
    loop_body = "Fix this:\nfor x in xs:\n    f(x)\n    g(x)"
    after_loop = "Fix this:\nfor x in xs:\n    f(x)\ng(x)"
    assert normalize_text(loop_body) != normalize_text(after_loop)
    assert normalize_text("  a  b  \n\n\n\n  c ") == "a b\n\n  c"


# --- get / put


async def test_put_then_get_round_trips(cache: ResponseCache, raw_redis: Any) -> None:
    await cache.put("acme", "u1", DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
    assert await cache.get("acme", DIGEST) == answer()
    assert await cache.get_stale("acme", DIGEST) == answer()
    assert await cache.get("acme", OTHER_DIGEST) is None
    fresh_ttl = await raw_redis.ttl(f"{cache.namespace}:acme:a:{DIGEST}")
    stale_ttl = await raw_redis.ttl(f"{cache.namespace}:acme:s:{DIGEST}")
    assert 0 < fresh_ttl <= 60 and 60 < stale_ttl <= 600


async def test_stale_copy_outlives_the_fresh_entry(cache: ResponseCache, raw_redis: Any) -> None:
    await cache.put("acme", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
    await raw_redis.delete(f"{cache.namespace}:acme:a:{DIGEST}")  # as its TTL would
    assert await cache.get("acme", DIGEST) is None
    assert await cache.get_stale("acme", DIGEST) == answer()


async def test_no_stale_copy_when_its_ttl_is_zero(cache: ResponseCache) -> None:
    await cache.put("acme", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
    assert await cache.get("acme", DIGEST) == answer()
    assert await cache.get_stale("acme", DIGEST) is None


@pytest.mark.parametrize("content", ["", "   \n"])
async def test_empty_answers_are_never_stored(cache: ResponseCache, content: str) -> None:
    await cache.put("acme", "u1", DIGEST, answer(content), ttl_s=60, stale_ttl_s=600)
    assert await cache.get("acme", DIGEST) is None
    assert await cache.get_stale("acme", DIGEST) is None


async def test_zero_ttl_stores_nothing(cache: ResponseCache) -> None:
    await cache.put("acme", "u1", DIGEST, answer(), ttl_s=0, stale_ttl_s=600)
    assert await cache.get_stale("acme", DIGEST) is None


async def test_hits_and_misses_are_counted(cache: ResponseCache) -> None:
    def sample(result: str) -> float:
        labels = {"cache": "response", "result": result}
        return REGISTRY.get_sample_value("frugalflow_cache_requests_total", labels) or 0.0

    hits, misses = sample("hit"), sample("miss")
    await cache.put("acme", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
    await cache.get("acme", DIGEST)
    await cache.get("acme", OTHER_DIGEST)
    assert (sample("hit") - hits, sample("miss") - misses) == (1, 1)


async def test_a_corrupt_entry_is_a_counted_miss(cache: ResponseCache, raw_redis: Any) -> None:
    await raw_redis.hset(f"{cache.namespace}:acme:a:{DIGEST}", "answer", "{not json")
    before = errors()
    assert await cache.get("acme", DIGEST) is None
    assert errors() == before + 1


# --- tenants never see each other's entries


async def test_tenants_never_see_each_others_entries(cache: ResponseCache) -> None:
    for tenant in AWKWARD_TENANTS:
        await cache.put(tenant, "u1", DIGEST, answer(f"for {tenant}"), ttl_s=60, stale_ttl_s=600)
    for tenant in AWKWARD_TENANTS:
        fresh = await cache.get(tenant, DIGEST)
        stale = await cache.get_stale(tenant, DIGEST)
        assert fresh is not None and fresh.content == f"for {tenant}"
        assert stale is not None and stale.content == f"for {tenant}"


@pytest.mark.parametrize("victim", AWKWARD_TENANTS)
async def test_invalidating_a_tenant_spares_every_other(cache: ResponseCache, victim: str) -> None:
    for tenant in AWKWARD_TENANTS:
        await cache.put(tenant, "u1", DIGEST, answer(f"for {tenant}"), ttl_s=60, stale_ttl_s=600)
    # fresh + stale + the user's index
    assert await cache.invalidate_tenant(victim) == 3
    for tenant in AWKWARD_TENANTS:
        kept = await cache.get(tenant, DIGEST)
        assert (kept is None) == (tenant == victim), tenant
        assert (await cache.get_stale(tenant, DIGEST) is None) == (tenant == victim), tenant


async def test_invalidating_a_tenant_deletes_in_chunks(cache: ResponseCache) -> None:
    for i in range(1200):
        await cache.put("big", None, f"{i:064x}", answer(), ttl_s=60, stale_ttl_s=0)
    await cache.put("big:other", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
    assert await cache.invalidate_tenant("big") == 1200
    assert await cache.get("big:other", DIGEST) is not None


# --- invalidation by user


async def test_invalidating_a_user_removes_only_what_their_requests_created(
    cache: ResponseCache,
) -> None:
    await cache.put("acme", "u1", DIGEST, answer("u1's"), ttl_s=60, stale_ttl_s=600)
    await cache.put("acme", "u2", OTHER_DIGEST, answer("u2's"), ttl_s=60, stale_ttl_s=600)
    await cache.put("acme", None, "c" * 64, answer("anonymous"), ttl_s=60, stale_ttl_s=600)
    await cache.put("acme:x", "u1", DIGEST, answer("other tenant"), ttl_s=60, stale_ttl_s=600)

    assert await cache.invalidate_user("acme", "u1") == 3  # fresh, stale, index
    assert await cache.get("acme", DIGEST) is None
    assert await cache.get_stale("acme", DIGEST) is None
    assert await cache.get("acme", OTHER_DIGEST) is not None
    assert await cache.get_stale("acme", OTHER_DIGEST) is not None
    assert await cache.get("acme", "c" * 64) is not None
    assert await cache.get("acme:x", DIGEST) is not None
    assert await cache.invalidate_user("acme", "u1") == 0


async def test_an_entry_another_user_rewrote_survives(cache: ResponseCache) -> None:
    await cache.put("acme", "u1", DIGEST, answer("first"), ttl_s=60, stale_ttl_s=600)
    await cache.put("acme", "u2", DIGEST, answer("second"), ttl_s=60, stale_ttl_s=600)
    assert await cache.invalidate_user("acme", "u1") == 1  # only u1's index
    kept = await cache.get("acme", DIGEST)
    assert kept is not None and kept.content == "second"
    assert await cache.invalidate_user("acme", "u2") == 3


@pytest.mark.parametrize("user", ["u:1", "u*", "%3A", "user\ud800"])
async def test_awkward_user_ids(cache: ResponseCache, user: str) -> None:
    await cache.put("acme", user, DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
    await cache.put("acme", "plain", OTHER_DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
    assert await cache.invalidate_user("acme", user) == 3
    assert await cache.get("acme", DIGEST) is None
    assert await cache.get("acme", OTHER_DIGEST) is not None


async def test_the_user_index_lives_as_long_as_the_longest_entry(
    cache: ResponseCache, raw_redis: Any
) -> None:
    await cache.put("acme", "u1", DIGEST, answer(), ttl_s=60, stale_ttl_s=6000)
    await cache.put("acme", "u1", OTHER_DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
    assert 600 < await raw_redis.ttl(f"{cache.namespace}:acme:u:u1") <= 6000


# --- Redis down or hung: misses and no-ops, never an exception


async def test_redis_stopped_mid_test_turns_into_misses(own_redis: LocalRedis) -> None:
    assert own_redis.url is not None and own_redis.port is not None
    client = redis_client(own_redis.url, timeout_s=5)
    cache = ResponseCache(client, timeout_s=5, cooldown_s=0)
    try:
        await cache.put("acme", "u1", DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
        assert await cache.get("acme", DIGEST) == answer()

        own_redis.stop()
        before, stale_before = errors(), errors("response_stale")
        assert await cache.get("acme", DIGEST) is None
        assert await cache.get_stale("acme", DIGEST) is None
        await cache.put("acme", "u1", OTHER_DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
        assert errors() == before + 2 and errors("response_stale") == stale_before + 1
        with pytest.raises(CacheUnavailable):
            await cache.invalidate_tenant("acme")
        with pytest.raises(CacheUnavailable):
            await cache.invalidate_user("acme", "u1")

        back = LocalRedis(own_redis.data_dir, port=own_redis.port)  # same address
        back.start()
        try:
            assert await cache.get("acme", DIGEST) is None  # no persistence: a cold cache
            await cache.put("acme", "u1", DIGEST, answer(), ttl_s=60, stale_ttl_s=600)
            assert await cache.get("acme", DIGEST) == answer()
        finally:
            back.stop()
    finally:
        await client.aclose()


async def test_a_hung_redis_is_a_miss_within_the_timeout(own_redis: LocalRedis) -> None:
    assert own_redis.url is not None
    patient_client = redis_client(own_redis.url, timeout_s=5)
    hasty_client = redis_client(own_redis.url, timeout_s=0.2)
    patient = ResponseCache(patient_client, timeout_s=5)
    hasty = ResponseCache(hasty_client, timeout_s=0.2, cooldown_s=0)
    try:
        pid = int((await patient_client.info("server"))["process_id"])
        await patient.put("acme", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
        os.kill(pid, signal.SIGSTOP)  # alive, connected, and silent
        try:
            before = errors()
            assert await hasty.get("acme", DIGEST) is None
            await hasty.put("acme", None, OTHER_DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
            assert errors() == before + 2
        finally:
            os.kill(pid, signal.SIGCONT)
        assert await patient.get("acme", DIGEST) == answer()
    finally:
        await patient_client.aclose()
        await hasty_client.aclose()


async def test_after_a_failure_redis_is_left_alone_for_the_cooldown(
    own_redis: LocalRedis,
) -> None:
    assert own_redis.url is not None and own_redis.port is not None
    client = redis_client(own_redis.url, timeout_s=5)
    cache = ResponseCache(client, timeout_s=5, cooldown_s=3600)
    try:
        own_redis.stop()
        assert await cache.get("acme", DIGEST) is None
        back = LocalRedis(own_redis.data_dir, port=own_redis.port)
        back.start()
        try:
            check = redis.asyncio.Redis.from_url(own_redis.url)
            await check.hset(f"ff:rc:acme:a:{DIGEST}", "answer", answer().model_dump_json())
            await check.aclose()
            before = errors()
            assert await cache.get("acme", DIGEST) is None  # not even tried
            assert errors() == before + 1
        finally:
            back.stop()
    finally:
        await client.aclose()


async def test_failures_are_logged_rarely(
    own_redis: LocalRedis, caplog: pytest.LogCaptureFixture
) -> None:
    assert own_redis.url is not None
    client = redis_client(own_redis.url, timeout_s=5)
    cache = ResponseCache(client, timeout_s=5, cooldown_s=0)
    own_redis.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="frugalflow.policy.response_cache"):
            for _ in range(20):
                assert await cache.get("acme", DIGEST) is None
        warnings = [r for r in caplog.records if r.name == "frugalflow.policy.response_cache"]
        assert len(warnings) == 1
        assert "ConnectionError" in warnings[0].getMessage()
        assert own_redis.url not in warnings[0].getMessage()
    finally:
        await client.aclose()


async def test_a_refused_command_fails_softly_without_a_cooldown(
    redis_url: str, raw_redis: Any
) -> None:
    client = redis_client(redis_url, timeout_s=5)
    cache = ResponseCache(client, timeout_s=5, cooldown_s=3600, namespace="refused")
    try:
        await raw_redis.set(f"refused:acme:a:{DIGEST}", "a string, not a hash")
        before = errors()
        await cache.put("acme", None, DIGEST, answer(), ttl_s=60, stale_ttl_s=0)  # WRONGTYPE
        assert await cache.get("acme", DIGEST) is None
        assert errors() == before + 2
        await cache.put("acme", None, OTHER_DIGEST, answer(), ttl_s=60, stale_ttl_s=0)
        assert await cache.get("acme", OTHER_DIGEST) == answer()  # Redis was not shunned
    finally:
        await raw_redis.delete(f"refused:acme:a:{DIGEST}")
        await client.aclose()
