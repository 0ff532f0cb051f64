"""Prompt-cache placement: where ``cache_control`` goes, and what the emulator bills for it.

Emulated token counts (see test_adapters.py): ceil(chars/4) per text block, +4 per message
(the system prompt counts as one), +3 per request. The emulator caches a breakpoint's
prefix when it reaches 1024 tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from frugalflow.costing.catalog import price_of
from frugalflow.emulator import EmulatorServer
from frugalflow.providers.anthropic_adapter import AnthropicAdapter
from frugalflow.providers.base import BatchState, ChatMessage, ChatRequest
from frugalflow.providers.errors import RetryPolicy
from frugalflow.providers.openai_adapter import OpenAIAdapter
from frugalflow.providers.prompt_cache import (
    MAX_BREAKPOINTS,
    Breakpoints,
    min_cacheable_tokens,
    openai_cache_key,
    place_breakpoints,
)
from tests.emulator.support import stats

SYSTEM = "s" * 4400  # 1100 tokens
SHORT_SYSTEM = "s" * 400  # 100 tokens
U0, A0, U1 = "u" * 2000, "a" * 400, "question?"  # 500, 100, 3 tokens
EPHEMERAL = {"type": "ephemeral"}
EPHEMERAL_1H = {"type": "ephemeral", "ttl": "1h"}
FAST_RETRY = RetryPolicy(max_retries=0)


def conversation(*texts: str) -> tuple[ChatMessage, ...]:
    """Alternating user/assistant turns, starting with the user."""
    return tuple(ChatMessage("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts))


def chat(
    *texts: str, system: str | None = SYSTEM, model: str = "claude-test", custom_id: str = "r1"
) -> ChatRequest:
    return ChatRequest(
        custom_id=custom_id,
        model=model,
        messages=conversation(*texts),
        max_tokens=100,
        system=system,
    )


def marked(content: str, control: dict[str, str] = EPHEMERAL) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content, "cache_control": control}]


def breakpoints_in(params: Any) -> int:
    blocks = [*(params["system"] if isinstance(params.get("system"), list) else [])]
    for message in params["messages"]:
        if isinstance(message["content"], list):
            blocks.extend(message["content"])
    return sum(1 for block in blocks if "cache_control" in block)


@pytest.fixture
async def make_adapter(
    emulator: EmulatorServer,
) -> AsyncIterator[Callable[..., AnthropicAdapter]]:
    made: list[AnthropicAdapter] = []

    def make(**kwargs: Any) -> AnthropicAdapter:
        adapter = AnthropicAdapter(
            api_key="test-key",
            base_url=emulator.anthropic_base_url,
            timeout_s=10.0,
            retry_policy=FAST_RETRY,
            **kwargs,
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


# --- placement (pure) ---------------------------------------------------------------------


def test_system_then_history_end() -> None:
    assert place_breakpoints(SYSTEM, conversation(U0, A0, U1), 1024) == Breakpoints(
        system=True, messages=frozenset({1})
    )


def test_single_question_marks_only_the_system_prompt() -> None:
    assert place_breakpoints(SYSTEM, conversation("x" * 8000), 1024) == Breakpoints(system=True)


def test_below_the_minimum_nothing_is_marked() -> None:
    assert place_breakpoints(SHORT_SYSTEM, conversation("hi", "hello", "again"), 1024) == (
        Breakpoints()
    )
    assert place_breakpoints(None, conversation("x" * 8000), 1024) == Breakpoints()


def test_history_reaching_the_minimum_is_marked_without_a_long_system() -> None:
    # system 100 + U0 500 + A0 100 = 700 estimated tokens < 1024; + 500 + 100 = 1300 >= 1024
    marks = place_breakpoints(SHORT_SYSTEM, conversation(U0, A0, U0, A0, U1), 1024)
    assert marks == Breakpoints(system=False, messages=frozenset({3}))


def test_never_more_than_four_and_the_latest_turns_win() -> None:
    texts = [("u" if i % 2 == 0 else "a") * 4400 for i in range(13)]
    marks = place_breakpoints(SYSTEM, conversation(*texts), 1024)
    assert len(marks) == MAX_BREAKPOINTS
    assert marks == Breakpoints(system=True, messages=frozenset({11, 9, 7}))
    no_system = place_breakpoints(None, conversation(*texts), 1024)
    assert no_system == Breakpoints(messages=frozenset({11, 9, 7, 5}))


def test_minimum_comes_from_the_catalog_with_the_adapter_default_as_fallback() -> None:
    assert min_cacheable_tokens("claude-haiku-4-5", 1024) == (
        price_of("claude-haiku-4-5").min_cacheable_tokens
    )
    assert min_cacheable_tokens("claude-not-in-catalog", 777) == 777


def test_adapter_applies_the_catalog_minimum() -> None:
    adapter = AnthropicAdapter(api_key="k", min_cacheable_tokens=1024)
    big_minimum = price_of("claude-haiku-4-5").min_cacheable_tokens
    assert big_minimum > 1100  # the system prompt below is cacheable for Sonnet only
    haiku = adapter.params(chat(U1, model="claude-haiku-4-5"))
    assert haiku["system"] == SYSTEM
    sonnet = adapter.params(chat(U1, model="claude-sonnet-4-6"))
    assert sonnet["system"] == marked(SYSTEM)


def test_one_hour_ttl_on_the_batch_path_only_when_configured() -> None:
    request = chat(U0, A0, U1)
    with_1h = AnthropicAdapter(api_key="k", batch_cache_ttl_1h=True)
    batch = with_1h.params(request, batch=True)
    assert batch["system"] == marked(SYSTEM, EPHEMERAL_1H)
    assert list(batch["messages"])[1]["content"] == marked(A0, EPHEMERAL_1H)
    immediate = with_1h.params(request)
    assert immediate["system"] == marked(SYSTEM)
    default = AnthropicAdapter(api_key="k").params(request, batch=True)
    assert default["system"] == marked(SYSTEM)


# --- against the emulator -----------------------------------------------------------------


async def test_exact_body_and_cache_write_then_read(
    make_adapter: Callable[..., AnthropicAdapter], http: httpx.AsyncClient
) -> None:
    adapter = make_adapter()
    first = await adapter.complete(chat(U0, A0, U1))
    assert first.ok, first.error_message
    sent = (await stats(http))["recent_requests"][-1]
    assert sent["endpoint"] == "POST /v1/messages"
    assert sent["body"] == {
        "model": "claude-test",
        "max_tokens": 100,
        "system": marked(SYSTEM),
        "messages": [
            {"role": "user", "content": U0},
            {"role": "assistant", "content": marked(A0)},
            {"role": "user", "content": U1},
        ],
    }
    system_end = 3 + 4 + 1100
    history_end = system_end + (4 + 500) + (4 + 100)
    total = history_end + 4 + 3
    # the first call writes both prefixes; the question after them is plain input
    assert first.usage.as_dict() | {"output_tokens": 0} == {
        "input_tokens": total - history_end,
        "output_tokens": 0,
        "cache_write_tokens": history_end,
        "cache_read_tokens": 0,
    }
    again = await adapter.complete(chat(U0, A0, U1))
    assert (again.usage.cache_write_tokens, again.usage.cache_read_tokens) == (0, history_end)
    assert again.usage.input_tokens == total - history_end

    # the next turn reads what the previous turn wrote and writes only the new history
    next_turn = await adapter.complete(chat(U0, A0, U1, "answer", "and then?"))
    turn_end = history_end + (4 + 3) + (4 + 2)
    assert (next_turn.usage.cache_read_tokens, next_turn.usage.cache_write_tokens) == (
        history_end,
        turn_end - history_end,
    )
    body = (await stats(http))["recent_requests"][-1]["body"]
    assert breakpoints_in(body) == 3  # system, end of the previous turn, end of this history


async def test_below_minimum_is_sent_plain_and_never_cached(
    make_adapter: Callable[..., AnthropicAdapter], http: httpx.AsyncClient
) -> None:
    adapter = make_adapter()
    for _ in range(2):
        result = await adapter.complete(chat("hi", "hello", "again", system=SHORT_SYSTEM))
        assert (result.usage.cache_write_tokens, result.usage.cache_read_tokens) == (0, 0)
    body = (await stats(http))["recent_requests"][-1]["body"]
    assert body["system"] == SHORT_SYSTEM
    assert [m["content"] for m in body["messages"]] == ["hi", "hello", "again"]


async def test_long_conversation_stays_within_four_breakpoints(
    make_adapter: Callable[..., AnthropicAdapter], http: httpx.AsyncClient
) -> None:
    texts = [("u" if i % 2 == 0 else "a") * 4400 for i in range(13)]
    result = await make_adapter().complete(chat(*texts))
    assert result.ok, result.error_message  # the emulator rejects more than 4, like the API
    body = (await stats(http))["recent_requests"][-1]["body"]
    assert breakpoints_in(body) == MAX_BREAKPOINTS


async def test_batch_uses_one_hour_breakpoints_when_configured(
    make_adapter: Callable[..., AnthropicAdapter], http: httpx.AsyncClient
) -> None:
    adapter = make_adapter(batch_cache_ttl_1h=True)
    batch_id = await adapter.submit_batch([chat(U0, A0, U1)], {})
    created = (await stats(http))["recent_requests"][-1]
    assert created["endpoint"] == "POST /v1/messages/batches"
    params = created["body"]["requests"][0]["params"]
    assert params["system"] == marked(SYSTEM, EPHEMERAL_1H)
    assert params["messages"][1]["content"] == marked(A0, EPHEMERAL_1H)
    for _ in range(200):
        if (await adapter.poll_batch(batch_id)).state is not BatchState.PENDING:
            break
        await asyncio.sleep(0.05)
    response = await http.get(
        f"/v1/messages/batches/{batch_id}/results", headers={"x-api-key": "test-key"}
    )
    (line,) = [json.loads(text) for text in response.text.splitlines() if text.strip()]
    usage = line["result"]["message"]["usage"]
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": usage["cache_creation_input_tokens"],
    }
    assert usage["cache_creation_input_tokens"] > 0
    # The adapter keeps the split, so the calculator bills these writes at the 1-hour price.
    (result,) = await adapter.batch_results(batch_id)
    assert result.usage.cache_write_1h_tokens == usage["cache_creation_input_tokens"] > 0
    assert result.usage.cache_write_tokens == usage["cache_creation_input_tokens"]


# --- OpenAI prompt_cache_key --------------------------------------------------------------


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def test_openai_key_is_the_leading_stable_content() -> None:
    assert openai_cache_key(SYSTEM, conversation(U1)) == sha(SYSTEM)
    assert openai_cache_key(SYSTEM, conversation(U0, A0, U1)) == sha(SYSTEM)
    assert openai_cache_key(None, conversation(U1)) is None  # nothing is shared
    # without a system prompt, a conversation keeps its first message's key every turn
    assert openai_cache_key(None, conversation(U0, A0, U1)) == sha(U0)
    assert openai_cache_key(None, conversation(U0, A0, U1, "x", "y")) == sha(U0)


async def test_openai_turns_of_a_conversation_share_the_cache(
    emulator: EmulatorServer, http: httpx.AsyncClient
) -> None:
    adapter = OpenAIAdapter(
        api_key="test-key", base_url=emulator.openai_base_url, retry_policy=FAST_RETRY
    )
    try:
        first = await adapter.complete(chat(U0 * 3, A0, U1, system=None, model="gpt-test"))
        sent = (await stats(http))["recent_requests"][-1]["body"]
        assert sent["prompt_cache_key"] == sha(U0 * 3)
        second = await adapter.complete(
            chat(U0 * 3, A0, U1, "answer", "more?", system=None, model="gpt-test")
        )
    finally:
        await adapter.aclose()
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens >= 1024
