"""The Gemini and Ollama adapters, and the registry, against a real emulator (no mocks).

Token numbers follow the emulator's documented rule: ceil(chars/4) per text part, +4 per
message (a system prompt counts as one), +3 per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from frugalflow.emulator import EmulatorServer
from frugalflow.emulator.answers import natural_length
from frugalflow.emulator.gemini_api import GENERATE_ENDPOINT
from frugalflow.providers.base import (
    BATCH_MARKER,
    BatchState,
    CachingStrategy,
    ChatMessage,
    ChatRequest,
    ProviderAdapter,
    ProviderError,
    Usage,
)
from frugalflow.providers.errors import ErrorCode, RetryPolicy
from frugalflow.providers.gemini_adapter import GeminiAdapter, gemini_usage
from frugalflow.providers.ids import safe_custom_id
from frugalflow.providers.ollama_adapter import OllamaAdapter
from frugalflow.providers.openai_adapter import OpenAIAdapter
from frugalflow.providers.registry import EMULATOR_KEY, ProviderNotConfigured, ProviderRegistry
from frugalflow.settings import load_settings
from tests.emulator.support import configure, stats

MODEL = "gemini-test"
FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
NO_RETRY = RetryPolicy(max_retries=0)


@pytest.fixture
async def gemini(emulator: EmulatorServer) -> AsyncIterator[Callable[..., GeminiAdapter]]:
    made: list[GeminiAdapter] = []

    def make(**kwargs: Any) -> GeminiAdapter:
        kwargs.setdefault("retry_policy", FAST_RETRY)
        kwargs.setdefault("timeout_s", 10.0)
        adapter = GeminiAdapter("test-key", emulator.base_url, **kwargs)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


def request(
    custom_id: str = "req-1",
    text: str = "hello",
    *,
    model: str = MODEL,
    system: str | None = None,
    max_tokens: int = 100,
) -> ChatRequest:
    return ChatRequest(
        custom_id=custom_id,
        model=model,
        messages=(ChatMessage("user", text),),
        max_tokens=max_tokens,
        system=system,
    )


async def wait_state(adapter: ProviderAdapter, batch_id: str) -> BatchState:
    for _ in range(100):
        poll = await adapter.poll_batch(batch_id)
        if poll.state is not BatchState.PENDING:
            return poll.state
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} still pending")


# --- Gemini: immediate ------------------------------------------------------------------


async def test_gemini_satisfies_the_protocol(gemini: Callable[..., GeminiAdapter]) -> None:
    adapter = gemini()
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.name == "gemini" and adapter.capabilities.batching
    caps = adapter.capabilities
    assert caps.batching and caps.caching is CachingStrategy.AUTOMATIC
    assert caps.batch_max_bytes == 20 * 1024 * 1024 and caps.min_cacheable_tokens == 1024


async def test_gemini_complete_happy_path(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    result = await gemini().complete(request(system="abcd"))
    output = natural_length(MODEL, "hello")
    assert result.ok and result.custom_id == "req-1" and result.model == MODEL
    assert result.content is not None and len(result.content) == 4 * output
    assert result.usage == Usage(input_tokens=14, output_tokens=output)
    sent = (await stats(http))["recent_requests"][-1]
    assert sent["endpoint"] == GENERATE_ENDPOINT
    assert sent["body"] == {
        "contents": [{"role": "user", "parts": [{"text": "hello"}]}],
        "generationConfig": {"maxOutputTokens": 100},
        "systemInstruction": {"parts": [{"text": "abcd"}]},
    }


async def test_gemini_flex_tier_is_asked_for_billed_and_refused(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    assert adapter.capabilities.flex
    flex = replace(request(), service_tier="flex")
    served = await adapter.complete(flex)
    assert served.ok and served.service_tier == "flex"  # billed at flex prices
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert sent["serviceTier"] == "flex"  # top level, as google-genai sends it
    standard = await adapter.complete(request())
    assert standard.ok and standard.service_tier == "standard"
    assert "serviceTier" not in (await stats(http))["recent_requests"][-1]["body"]
    # out of flex capacity: 429 after the adapter's own retries, a retryable code
    response = await http.put("/_emulator/config", json={"flex_refuse_next_n": 10})
    assert response.status_code == 200
    refused = await adapter.complete(flex)
    assert not refused.ok and refused.error_code == "provider_rate_limited" and refused.retryable
    assert (await stats(http))["cache"]["flex_refused"] >= 1


async def test_gemini_maps_roles_and_temperature(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    chat = ChatRequest(
        custom_id="c",
        model=MODEL,
        messages=(
            ChatMessage("user", "hi"),
            ChatMessage("assistant", "yo"),
            ChatMessage("user", "q"),
        ),
        max_tokens=5,
        temperature=0.5,
    )
    assert (await gemini().complete(chat)).ok
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["generationConfig"] == {"maxOutputTokens": 5, "temperature": 0.5}
    bad = ChatRequest("d", MODEL, (ChatMessage("system", "x"),), 5)
    result = await gemini().complete(bad)
    assert not result.ok and result.error_code == ErrorCode.BAD_REQUEST


async def test_gemini_implicit_cache_read(gemini: Callable[..., GeminiAdapter]) -> None:
    adapter = gemini()
    system = "s" * 8000  # shared prefix 3 + 4 + 2000 + 4 = 2011 tokens
    first = await adapter.complete(request("a", "first question", system=system))
    assert first.usage.cache_read_tokens == 0 and first.usage.input_tokens == 2015
    second = await adapter.complete(request("b", "other question", system=system))
    assert second.usage.cache_read_tokens == 1920  # largest 1024 + k*128 boundary <= 2011
    assert second.usage.input_tokens == 2015 - 1920


def test_gemini_usage_normalization() -> None:
    metadata = {
        "promptTokenCount": 204082,
        "cachedContentTokenCount": 200658,
        "candidatesTokenCount": 100,
        "thoughtsTokenCount": 2326,
    }
    assert gemini_usage(metadata) == Usage(
        input_tokens=204082 - 200658, output_tokens=2426, cache_read_tokens=200658
    )
    assert gemini_usage(None) == Usage()


async def test_gemini_thoughts_bill_as_output(gemini: Callable[..., GeminiAdapter]) -> None:
    # The adapter sends no thinkingConfig; drive the emulator directly through the adapter's
    # transport to check the usage mapping of a thinking response end to end.
    adapter = gemini()
    body = adapter.body(request()) | {
        "generationConfig": {"maxOutputTokens": 100, "thinkingConfig": {"thinkingBudget": 7}}
    }
    data = await adapter._call("POST", f"models/{MODEL}:generateContent", body=body)
    usage = gemini_usage(data["usageMetadata"])
    assert usage.output_tokens == natural_length(MODEL, "hello") + 7
    assert usage.input_tokens == 9


async def test_gemini_rate_limit_is_retried_after_the_server_delay(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    await configure(http, fault_endpoints=[GENERATE_ENDPOINT], fail_next_n=1, error_statuses=[429])
    started = time.monotonic()
    result = await gemini().complete(request())
    assert result.ok
    assert time.monotonic() - started >= 0.19  # retry-after 0.2 s, not the 0.01 s backoff
    snapshot = await stats(http)
    assert snapshot["faults"] == {"error_429": 1}
    assert snapshot["requests"][GENERATE_ENDPOINT] == 2


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (429, ErrorCode.RATE_LIMITED, True),
        (500, ErrorCode.SERVER_ERROR, True),
        (503, ErrorCode.OVERLOADED, True),
        (400, ErrorCode.BAD_REQUEST, False),
        (403, ErrorCode.AUTH_ERROR, False),
        (404, ErrorCode.NOT_FOUND, False),
    ],
)
async def test_gemini_fault_codes(
    status: int,
    code: ErrorCode,
    retryable: bool,
    gemini: Callable[..., GeminiAdapter],
    http: httpx.AsyncClient,
) -> None:
    await configure(
        http, fault_endpoints=[GENERATE_ENDPOINT], fail_next_n=5, error_statuses=[status]
    )
    result = await gemini(retry_policy=NO_RETRY).complete(request())
    assert not result.ok
    assert (result.error_code, result.retryable) == (code, retryable)
    assert result.error_message is not None
    assert "emulated fault" in result.error_message.lower()


async def test_gemini_retries_exhausted_on_server_errors(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    await configure(http, fault_endpoints=[GENERATE_ENDPOINT], fail_next_n=5, error_statuses=[500])
    result = await gemini().complete(request())
    assert result.error_code == ErrorCode.SERVER_ERROR and result.retryable
    assert (await stats(http))["requests"][GENERATE_ENDPOINT] == 3  # 1 + max_retries


async def test_gemini_timeout(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    await configure(http, fault_endpoints=[GENERATE_ENDPOINT], timeout_rate=1.0, timeout_hang_s=5.0)
    result = await gemini(timeout_s=0.3, retry_policy=NO_RETRY).complete(request())
    assert (result.error_code, result.retryable) == (ErrorCode.TIMEOUT, True)


async def test_gemini_real_bad_request_and_connection_error(
    gemini: Callable[..., GeminiAdapter],
) -> None:
    result = await gemini().complete(request(max_tokens=0))  # emulator rejects it: 400
    assert (result.error_code, result.retryable) == (ErrorCode.BAD_REQUEST, False)
    assert result.error_message is not None and "INVALID_ARGUMENT" in result.error_message
    closed = GeminiAdapter("k", "http://127.0.0.1:9", retry_policy=NO_RETRY)
    try:
        result = await closed.complete(request())
    finally:
        await closed.aclose()
    assert (result.error_code, result.retryable) == (ErrorCode.CONNECTION_ERROR, True)


# --- Gemini: batch ----------------------------------------------------------------------


async def test_gemini_batch_lifecycle(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    requests = [request("a" * 100, "first"), request("b/2", "second", system="abcd")]
    batch_id = await adapter.submit_batch(requests, {BATCH_MARKER: "mark-1"})
    assert batch_id.startswith("batches/")
    sent = (await stats(http))["recent_requests"][-1]["body"]["batch"]
    assert sent["displayName"] == "mark-1"
    keys = [line["metadata"]["key"] for line in sent["inputConfig"]["requests"]["requests"]]
    assert keys == [safe_custom_id(r.custom_id) for r in requests]

    with pytest.raises(ProviderError) as not_ended:
        await adapter.batch_results(batch_id)
    assert not_ended.value.code == ErrorCode.BATCH_NOT_ENDED and not_ended.value.retryable

    assert await wait_state(adapter, batch_id) is BatchState.ENDED
    poll = await adapter.poll_batch(batch_id)
    assert "state=BATCH_STATE_SUCCEEDED" in poll.detail and "requestCount=2" in poll.detail
    results = {r.custom_id: r for r in await adapter.batch_results(batch_id)}
    assert set(results) == set(keys)
    first, second = results[keys[0]], results[keys[1]]
    assert first.ok and first.model == MODEL
    assert first.usage == Usage(
        input_tokens=3 + 4 + 2, output_tokens=natural_length(MODEL, "first")
    )
    assert second.usage.input_tokens == 3 + (4 + 1) + (4 + 2)


async def test_gemini_batch_partial_failure(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    await configure(http, batch_error_custom_ids=[safe_custom_id("bad")])
    batch_id = await adapter.submit_batch([request("good"), request("bad")], {})
    assert await wait_state(adapter, batch_id) is BatchState.ENDED
    results = {r.custom_id: r for r in await adapter.batch_results(batch_id)}
    assert results[safe_custom_id("good")].ok
    bad = results[safe_custom_id("bad")]
    assert (bad.ok, bad.error_code, bad.retryable) == (False, ErrorCode.SERVER_ERROR, True)


async def test_gemini_batch_expiry(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    await configure(http, batch_expire=True)
    batch_id = await adapter.submit_batch([request("x"), request("y")], {})
    assert await wait_state(adapter, batch_id) is BatchState.EXPIRED
    assert await adapter.batch_results(batch_id) == []  # expired Gemini batches keep nothing

    await configure(http, batch_expire_completed=1)
    batch_id = await adapter.submit_batch([request("x"), request("y")], {})
    assert await wait_state(adapter, batch_id) is BatchState.EXPIRED
    results = await adapter.batch_results(batch_id)
    assert [(r.custom_id, r.ok) for r in results] == [(safe_custom_id("x"), True)]


async def test_gemini_cancelled_batch_is_failed(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    await configure(http, batch_delay_s=30)
    batch_id = await adapter.submit_batch([request()], {})
    await http.post(f"/v1beta/{batch_id}:cancel")
    assert await wait_state(adapter, batch_id) is BatchState.FAILED
    assert await adapter.batch_results(batch_id) == []


async def test_gemini_batch_rejections(gemini: Callable[..., GeminiAdapter]) -> None:
    adapter = gemini()
    for bad in ([], [request("a"), request("a")], [request("a"), request("b", model="other")]):
        with pytest.raises(ProviderError) as caught:
            await adapter.submit_batch(bad, {})
        assert caught.value.code == ErrorCode.BAD_REQUEST
    with pytest.raises(ProviderError) as missing:
        await adapter.poll_batch("batches/nope")
    assert missing.value.code == ErrorCode.NOT_FOUND


async def test_gemini_find_batch_adopts_by_display_name(
    gemini: Callable[..., GeminiAdapter], http: httpx.AsyncClient
) -> None:
    adapter = gemini()
    await configure(http, batch_delay_s=30)
    before = time.time() - 5
    for n in range(3):  # other batches on other pages
        await adapter.submit_batch([request(f"o{n}")], {BATCH_MARKER: f"other-{n}"})
    batch_id = await adapter.submit_batch([request()], {BATCH_MARKER: "mark-2"})
    assert await adapter.find_batch("mark-2", before) == batch_id
    assert await adapter.find_batch("mark-3", before) is None
    assert await adapter.find_batch("mark-2", time.time() + 60) is None


# --- Ollama -----------------------------------------------------------------------------


@pytest.fixture
async def ollama(emulator: EmulatorServer) -> AsyncIterator[OllamaAdapter]:
    adapter = OllamaAdapter(emulator.openai_base_url, retry_policy=FAST_RETRY, timeout_s=10.0)
    yield adapter
    await adapter.aclose()


async def test_ollama_complete_against_openai_compatible_endpoint(
    ollama: OllamaAdapter, http: httpx.AsyncClient
) -> None:
    assert isinstance(ollama, ProviderAdapter) and isinstance(ollama, OpenAIAdapter)
    result = await ollama.complete(request(model="ollama/llama-test", system="abcd"))
    assert result.ok and result.model == "ollama/llama-test"  # prefix kept for pricing
    output = natural_length("llama-test", "hello")
    assert result.usage == Usage(input_tokens=14, output_tokens=output)
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert sent["model"] == "llama-test"
    assert sent["max_tokens"] == 100
    assert "max_completion_tokens" not in sent and "prompt_cache_key" not in sent


async def test_ollama_errors_and_no_batch(ollama: OllamaAdapter, http: httpx.AsyncClient) -> None:
    await configure(http, fail_next_n=5, error_statuses=[503])
    result = await ollama.complete(request(model="ollama/llama-test"))
    assert (result.error_code, result.retryable) == (ErrorCode.OVERLOADED, True)
    assert result.model == "ollama/llama-test"

    assert not ollama.capabilities.batching
    assert not ollama.capabilities.batching
    assert ollama.capabilities.caching is CachingStrategy.NONE
    for call in (
        ollama.submit_batch([request()], {}),
        ollama.poll_batch("b"),
        ollama.batch_results("b"),
    ):
        with pytest.raises(ProviderError, match="has no batch API") as caught:
            await call
        assert caught.value.code == ErrorCode.BAD_REQUEST
    assert await ollama.find_batch("m", 0.0) is None


# --- registry ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)
    for name in ("EMULATOR_URL", "OLLAMA_BASE_URL", "GEMINI_BASE_URL"):
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("overrides", "configured", "emulated", "batch_capable"),
    [
        ({}, set(), set(), set()),
        (
            {"emulator_url": "http://emu:1"},
            {"anthropic", "openai", "gemini"},
            {"anthropic", "openai", "gemini"},
            {"anthropic", "openai", "gemini"},
        ),
        ({"gemini_api_key": "g"}, {"gemini"}, set(), {"gemini"}),
        ({"ollama_base_url": "http://localhost:11434/v1"}, {"ollama"}, set(), set()),
        (
            {
                "emulator_url": "http://emu:1",
                "openai_api_key": "o",
                "ollama_base_url": "http://o/v1",
            },
            {"anthropic", "openai", "gemini", "ollama"},
            {"anthropic", "gemini"},
            {"anthropic", "openai", "gemini"},
        ),
    ],
)
def test_registry_configuration_matrix(
    overrides: dict[str, Any], configured: set[str], emulated: set[str], batch_capable: set[str]
) -> None:
    registry = ProviderRegistry(load_settings(**overrides))
    providers = ("anthropic", "openai", "gemini", "ollama", "mistral")
    assert {p for p in providers if registry.is_configured(p)} == configured
    assert {p for p in providers if registry.uses_emulator(p)} == emulated
    assert registry.batch_capable() == batch_capable


@pytest.mark.usefixtures("clean_env")
async def test_registry_builds_working_adapters(emulator: EmulatorServer) -> None:
    settings = load_settings(
        emulator_url=emulator.base_url, ollama_base_url=emulator.openai_base_url
    )
    registry = ProviderRegistry(settings)
    try:
        gemini = registry.get("gemini")
        assert isinstance(gemini, GeminiAdapter) and registry.get("gemini") is gemini
        assert (await gemini.complete(request())).ok
        ollama = registry.get("ollama")
        assert isinstance(ollama, OllamaAdapter)
        assert (await ollama.complete(request(model="ollama/llama-test"))).ok
        with pytest.raises(ProviderNotConfigured):
            registry.get("mistral")
    finally:
        await registry.aclose()
    assert registry.uses_emulator("gemini") and EMULATOR_KEY == "emulator-key"
