"""Named OpenAI-compatible providers (OpenRouter, Cerebras, a listed endpoint) through the
official ``openai`` SDK against a real emulator (no mocks), and the registry that builds
them. Token numbers follow the emulator's rule: ceil(chars/4) per text part, +4 per
message, +3 per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from openai.types import CompletionUsage

from frugalflow.costing.calculator import cost_and_savings
from frugalflow.costing.reported import cost_mismatch
from frugalflow.emulator import EmulatorServer
from frugalflow.emulator.answers import natural_length
from frugalflow.providers.base import (
    CachingStrategy,
    ChatMessage,
    ChatRequest,
    ProviderAdapter,
    ProviderError,
    Usage,
)
from frugalflow.providers.compatible_adapter import OpenAICompatibleAdapter
from frugalflow.providers.errors import ErrorCode, RetryPolicy
from frugalflow.providers.ollama_adapter import OllamaAdapter
from frugalflow.providers.registry import ProviderRegistry
from frugalflow.providers.reported_cost import reported_cost
from frugalflow.settings import load_settings
from tests.emulator.support import configure, stats

FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
SONNET = "openrouter/anthropic/claude-sonnet-4-6"


def request(model: str, custom_id: str = "req-1", text: str = "hello") -> ChatRequest:
    return ChatRequest(
        custom_id=custom_id, model=model, messages=(ChatMessage("user", text),), max_tokens=100
    )


async def last_body(http: httpx.AsyncClient) -> dict[str, object]:
    body: dict[str, object] = (await stats(http))["recent_requests"][-1]["body"]
    return body


@pytest.fixture
async def openrouter(emulator: EmulatorServer) -> AsyncIterator[OpenAICompatibleAdapter]:
    adapter = OpenAICompatibleAdapter(
        "openrouter", emulator.openrouter_base_url, "sk-or-test", 10.0,
        reports_cost=True, vendor_models=True, retry_policy=FAST_RETRY,
    )  # fmt: skip
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def cerebras(emulator: EmulatorServer) -> AsyncIterator[OpenAICompatibleAdapter]:
    adapter = OpenAICompatibleAdapter(
        "cerebras", emulator.cerebras_base_url, "csk-test", 10.0,
        max_tokens_param="max_completion_tokens", retry_policy=FAST_RETRY,
    )  # fmt: skip
    yield adapter
    await adapter.aclose()


def our_cost(model: str, usage: Usage) -> Decimal:
    cost, _, _ = cost_and_savings(usage, model=model, requested_model=model)
    return cost


# ------------------------------------------------------------------ OpenRouter


async def test_openrouter_answer_carries_the_cost_it_reports(
    openrouter: OpenAICompatibleAdapter, http: httpx.AsyncClient
) -> None:
    assert isinstance(openrouter, ProviderAdapter) and openrouter.name == "openrouter"
    result = await openrouter.complete(request(SONNET))
    assert result.ok and result.model == SONNET  # the prefix is kept: pricing keys on it
    output = natural_length("anthropic/claude-sonnet-4.6", "hello")
    assert result.usage == Usage(input_tokens=9, output_tokens=output)
    # $3 / $15 per million, as claude-sonnet-4-6 costs at Anthropic
    assert result.provider_cost_usd == our_cost(SONNET, result.usage)
    assert result.provider_cost_usd == (9 * 3 + output * 15) / Decimal(1_000_000)
    sent = await last_body(http)
    assert sent["model"] == "anthropic/claude-sonnet-4.6"  # OpenRouter's spelling
    assert sent["usage"] == {"include": True} and sent["max_tokens"] == 100
    assert "max_completion_tokens" not in sent and "prompt_cache_key" not in sent


async def test_openrouter_cost_that_differs_is_a_mismatch(
    openrouter: OpenAICompatibleAdapter, http: httpx.AsyncClient
) -> None:
    await configure(http, openrouter_cost_factor=1.5)
    model = "openrouter/openai/gpt-5.4"
    result = await openrouter.complete(request(model))
    assert result.ok and result.provider_cost_usd is not None
    ours = our_cost(model, result.usage)
    assert result.provider_cost_usd == ours * Decimal("1.5")
    assert cost_mismatch(ours, result.provider_cost_usd)
    assert (await last_body(http))["model"] == "openai/gpt-5.4"


async def test_openrouter_errors_keep_the_model_and_report_no_cost(
    openrouter: OpenAICompatibleAdapter, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=5, error_statuses=[503])
    result = await openrouter.complete(request(SONNET))
    assert not result.ok and (result.error_code, result.retryable) == (ErrorCode.OVERLOADED, True)
    assert result.model == SONNET and result.provider_cost_usd is None

    await configure(http, fail_next_n=0)
    unknown = await openrouter.complete(request("openrouter/meta-llama/llama-3.3-70b-instruct"))
    assert (unknown.ok, unknown.error_code) == (False, ErrorCode.BAD_REQUEST)


# ------------------------------------------------------------------ Cerebras


async def test_cerebras_sends_max_completion_tokens_and_reports_no_cost(
    cerebras: OpenAICompatibleAdapter, http: httpx.AsyncClient
) -> None:
    result = await cerebras.complete(request("cerebras/gpt-oss-120b", text="abcd efgh"))
    assert result.ok and result.model == "cerebras/gpt-oss-120b"
    assert result.provider_cost_usd is None
    sent = await last_body(http)
    assert sent["model"] == "gpt-oss-120b"
    assert sent["max_completion_tokens"] == 100 and "max_tokens" not in sent
    assert "usage" not in sent


async def test_gateways_have_no_batch_api(cerebras: OpenAICompatibleAdapter) -> None:
    assert not cerebras.capabilities.batching and not cerebras.capabilities.flex
    assert cerebras.capabilities.caching is CachingStrategy.NONE
    for call in (
        cerebras.submit_batch([request("cerebras/gpt-oss-120b")], {}),
        cerebras.poll_batch("b"),
        cerebras.batch_results("b"),
    ):
        with pytest.raises(ProviderError, match="'cerebras' has no batch API") as caught:
            await call
        assert caught.value.code == ErrorCode.BAD_REQUEST
    assert await cerebras.find_batch("m", 0.0) is None


# ------------------------------------------------------------------ reported cost


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"cost": 0.000522}, Decimal("0.000522")),
        ({"cost": 1.05e-05, "is_byok": False}, Decimal("0.0000105")),
        ({"cost": 0.0001, "is_byok": True,
          "cost_details": {"upstream_inference_cost": 0.002}}, Decimal("0.002")),
        ({"cost": 0.0001, "is_byok": True}, None),  # only OpenRouter's fee: not comparable
        ({}, None),
        ({"cost": "abc"}, None),
        ({"cost": -1}, None),
        ({"cost": True}, None),
    ],
)  # fmt: skip
def test_reported_cost_from_usage(extra: dict[str, object], expected: Decimal | None) -> None:
    usage = CompletionUsage.model_validate(
        {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, **extra}
    )
    assert reported_cost(usage) == expected


# ------------------------------------------------------------------ registry


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
                 "CEREBRAS_API_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)
    for name in ("EMULATOR_URL", "OLLAMA_BASE_URL", "OPENAI_COMPATIBLE"):
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)


@pytest.mark.usefixtures("clean_env")
async def test_registry_builds_named_adapters_against_the_emulator(
    emulator: EmulatorServer, http: httpx.AsyncClient
) -> None:
    settings = load_settings(
        emulator_url=emulator.base_url,
        ollama_base_url=emulator.openai_base_url,
        openai_compatible=[{"name": "vllm", "max_tokens_param": "max_completion_tokens",
                            "free": True}],
    )  # fmt: skip
    registry = ProviderRegistry(settings)
    try:
        assert registry.names() == (
            "anthropic", "openai", "gemini", "vllm", "ollama", "openrouter", "cerebras",
        )  # fmt: skip
        router = registry.get("openrouter")
        assert isinstance(router, OpenAICompatibleAdapter) and router.name == "openrouter"
        result = await router.complete(request(SONNET, custom_id="r-9"))
        assert result.ok and result.provider_cost_usd is not None

        cerebras = registry.get("cerebras")
        assert (await cerebras.complete(request("cerebras/gemma-4-31b"))).ok
        assert (await stats(http))["requests"]["POST /cerebras/v1/chat/completions"] == 1

        vllm = registry.get("vllm")  # no base_url: the emulator's OpenAI-compatible /v1
        assert isinstance(vllm, OpenAICompatibleAdapter) and registry.uses_emulator("vllm")
        assert (await vllm.complete(request("vllm/qwen3-32b"))).ok
        sent = await last_body(http)
        assert sent["model"] == "qwen3-32b" and sent["max_completion_tokens"] == 100

        ollama = registry.get("ollama")
        assert isinstance(ollama, OllamaAdapter) and not registry.uses_emulator("ollama")
        assert (await ollama.complete(request("ollama/llama-test"))).ok
    finally:
        await registry.aclose()
