"""The emulator's OpenRouter and Cerebras surfaces, through the official ``openai`` SDK.

Token numbers follow the documented rule (app/emulator/tokens.py): ceil(chars/4) per text
part, +4 per message, +3 per request; automatic caching of prompts >= 1024 tokens in
128-token increments, as on the OpenAI surface.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from frugalflow.emulator import EmulatorServer
from tests.emulator.support import configure, stats

USAGE_ACCOUNTING = {"usage": {"include": True}}
LONG = "x" * 5000  # 1250 tokens


@pytest.fixture
async def openrouter(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(
        api_key="sk-or-test", base_url=emulator.openrouter_base_url, max_retries=0, timeout=10
    )
    yield sdk
    await sdk.close()


@pytest.fixture
async def cerebras(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(
        api_key="csk-test", base_url=emulator.cerebras_base_url, max_retries=0, timeout=10
    )
    yield sdk
    await sdk.close()


async def chat(client: openai.AsyncOpenAI, model: str, *texts: str, **kwargs: Any) -> Any:
    messages: list[Any] = [{"role": "system", "content": t} for t in texts[:-1]]
    messages.append({"role": "user", "content": texts[-1]})
    return await client.chat.completions.create(model=model, messages=messages, **kwargs)


def per_million(tokens: int, price: str) -> Decimal:
    return tokens * Decimal(price) / 1_000_000


# ------------------------------------------------------------------ OpenRouter


async def test_openrouter_reports_the_cost_when_usage_accounting_is_asked(
    openrouter: openai.AsyncOpenAI,
) -> None:
    plain = await chat(openrouter, "anthropic/claude-sonnet-4.6", "hello")
    assert plain.object == "chat.completion" and plain.id.startswith("gen-")
    assert plain.model == "anthropic/claude-sonnet-4.6"
    assert plain.model_extra["provider"] == "Anthropic"
    assert "cost" not in (plain.usage.model_extra or {})

    counted = await chat(
        openrouter, "anthropic/claude-sonnet-4-6", "hello", extra_body=USAGE_ACCOUNTING
    )
    usage = counted.usage
    assert usage.prompt_tokens == 9
    extra = usage.model_extra or {}
    expected = per_million(9, "3") + per_million(usage.completion_tokens, "15")
    assert Decimal(repr(extra["cost"])) == expected
    assert extra["is_byok"] is False
    assert extra["cost_details"] == {"upstream_inference_cost": None}


async def test_openrouter_bills_cached_prompt_tokens_at_the_cache_read_price(
    openrouter: openai.AsyncOpenAI,
) -> None:
    await chat(openrouter, "openai/gpt-5.4", LONG, "hi", extra_body=USAGE_ACCOUNTING)
    second = await chat(openrouter, "openai/gpt-5.4", LONG, "hi", extra_body=USAGE_ACCOUNTING)
    usage = second.usage
    cached = usage.prompt_tokens_details.cached_tokens
    assert cached == 1152
    expected = (
        per_million(usage.prompt_tokens - cached, "2.50")
        + per_million(cached, "0.25")
        + per_million(usage.completion_tokens, "15")
    )
    assert Decimal(repr((usage.model_extra or {})["cost"])) == expected


async def test_openrouter_cost_factor_simulates_a_price_the_catalog_does_not_know(
    openrouter: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    config = await configure(http, openrouter_cost_factor=2)
    assert config["openrouter_cost_factor"] == 2
    answer = await chat(openrouter, "google/gemini-3.5-flash", "hi", extra_body=USAGE_ACCOUNTING)
    usage = answer.usage
    expected = 2 * (per_million(usage.prompt_tokens, "1.50")
                    + per_million(usage.completion_tokens, "9.00"))  # fmt: skip
    assert Decimal(repr((usage.model_extra or {})["cost"])) == expected
    bad = await http.put("/_emulator/config", json={"openrouter_cost_factor": -1})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "model", ["claude-sonnet-4-6", "meta-llama/llama-3.3-70b-instruct", "anthropic/nope"]
)
async def test_openrouter_refuses_ids_it_does_not_know(
    openrouter: openai.AsyncOpenAI, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await chat(openrouter, model, "hello")
    assert raised.value.status_code == 400
    assert f"{model} is not a valid model ID" in raised.value.message


# ------------------------------------------------------------------ Cerebras


async def test_cerebras_answers_in_openai_shape_with_its_time_info(
    cerebras: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    answer = await chat(cerebras, "gpt-oss-120b", "hello", max_completion_tokens=3)
    assert answer.model == "gpt-oss-120b" and answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 3 and answer.usage.prompt_tokens == 9
    assert set(answer.model_extra["time_info"]) >= {"queue_time", "total_time", "created"}
    assert "cost" not in (answer.usage.model_extra or {})
    counted = (await stats(http))["requests"]
    assert counted["POST /cerebras/v1/chat/completions"] == 1


async def test_cerebras_refuses_a_prefixed_model_id(cerebras: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await chat(cerebras, "cerebras/gpt-oss-120b", "hello")
    assert raised.value.code == "model_not_found"


# ------------------------------------------------------------------ both


@pytest.mark.parametrize(
    ("route", "model"),
    [
        ("POST /openrouter/api/v1/chat/completions", "openai/gpt-5.4-mini"),
        ("POST /cerebras/v1/chat/completions", "gemma-4-31b"),
    ],
)
async def test_faults_hit_the_gateways_by_default(
    emulator: EmulatorServer, http: httpx.AsyncClient, route: str, model: str
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[429], retry_after_s=0.01)
    base = emulator.openrouter_base_url if "openrouter" in route else emulator.cerebras_base_url
    async with openai.AsyncOpenAI(api_key="k", base_url=base, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError):
            await chat(client, model, "hi")
        assert (await chat(client, model, "hi")).choices[0].message.content
    snapshot = await stats(http)
    assert snapshot["faults"] == {"error_429": 1} and snapshot["requests"][route] == 2
