"""Both provider adapters against a real emulator, through the official SDKs.

Token numbers follow the emulator's documented rule: ceil(chars/4) per text block, +4 per
message (a system prompt counts as one), +3 per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from frugalflow.emulator import EmulatorServer
from frugalflow.providers.anthropic_adapter import AnthropicAdapter
from frugalflow.providers.base import (
    BATCH_MARKER,
    BatchState,
    ChatMessage,
    ChatRequest,
    ChatResult,
    ProviderAdapter,
    ProviderError,
)
from frugalflow.providers.errors import (
    ClassifiedError,
    ErrorCode,
    RetryPolicy,
    classify_exception,
    code_for_status,
    parse_retry_after,
)
from frugalflow.providers.ids import is_safe_custom_id, safe_custom_id, safe_id_map
from frugalflow.providers.openai_adapter import OpenAIAdapter
from tests.emulator.support import configure, stats

Adapter = AnthropicAdapter | OpenAIAdapter
MODELS = {"anthropic": "claude-test", "openai": "gpt-test"}
FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)


AdapterFactory = Callable[..., Adapter]


@pytest.fixture
async def make_adapter(emulator: EmulatorServer) -> AsyncIterator[Callable[..., Adapter]]:
    made: list[Adapter] = []

    def make(provider: str, **kwargs: Any) -> Adapter:
        kwargs.setdefault("retry_policy", FAST_RETRY)
        adapter: Adapter
        if provider == "anthropic":
            adapter = AnthropicAdapter(
                api_key="test-key",
                base_url=kwargs.pop("base_url", emulator.anthropic_base_url),
                timeout_s=kwargs.pop("timeout_s", 10.0),
                **kwargs,
            )
        else:
            adapter = OpenAIAdapter(
                api_key="test-key",
                base_url=kwargs.pop("base_url", emulator.openai_base_url),
                timeout_s=kwargs.pop("timeout_s", 10.0),
                **kwargs,
            )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


def request(
    provider: str,
    custom_id: str = "req-1",
    text: str = "hello",
    *,
    system: str | None = None,
    max_tokens: int = 100,
) -> ChatRequest:
    return ChatRequest(
        custom_id=custom_id,
        model=MODELS[provider],
        messages=(ChatMessage("user", text),),
        max_tokens=max_tokens,
        system=system,
    )


def inference_calls(snapshot: dict[str, Any]) -> int:
    requests = snapshot["requests"]
    return int(requests.get("POST /v1/messages", 0) + requests.get("POST /v1/chat/completions", 0))


both = pytest.mark.parametrize("provider", ["anthropic", "openai"])


# --- immediate ----------------------------------------------------------------------------


@both
async def test_adapters_satisfy_the_protocol(provider: str, make_adapter: AdapterFactory) -> None:
    adapter = make_adapter(provider)
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.name == provider and adapter.capabilities.batching


@pytest.mark.parametrize(("provider", "output_tokens"), [("anthropic", 14), ("openai", 50)])
async def test_complete_happy_path(
    provider: str, output_tokens: int, make_adapter: AdapterFactory
) -> None:
    result = await make_adapter(provider).complete(request(provider, system="abcd"))
    assert result.ok and result.error_code is None
    assert result.custom_id == "req-1"
    assert result.model == MODELS[provider]
    assert result.content is not None and result.content.startswith("[emulated ")
    assert result.usage.as_dict() == {
        "input_tokens": 3 + (4 + 1) + (4 + 2),
        "output_tokens": output_tokens,
        "cache_write_tokens": 0,
        "cache_read_tokens": 0,
    }


async def test_anthropic_caches_long_system_prompt(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    adapter = make_adapter("anthropic")
    long_system = "s" * 4400  # 1100 tokens estimated and emulated
    first = await adapter.complete(request("anthropic", system=long_system))
    prefix = 3 + 4 + 1100
    assert (first.usage.cache_write_tokens, first.usage.cache_read_tokens) == (prefix, 0)
    assert first.usage.input_tokens == 4 + 2
    second = await adapter.complete(request("anthropic", system=long_system))
    assert (second.usage.cache_write_tokens, second.usage.cache_read_tokens) == (0, prefix)
    assert second.usage.input_tokens == 6
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert sent["system"] == [
        {"type": "text", "text": long_system, "cache_control": {"type": "ephemeral"}}
    ]
    assert "temperature" not in sent


async def test_anthropic_short_system_prompt_is_sent_plain(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    result = await make_adapter("anthropic").complete(request("anthropic", system="s" * 400))
    assert result.usage.input_tokens == 3 + 4 + 100 + 4 + 2
    assert (await stats(http))["recent_requests"][-1]["body"]["system"] == "s" * 400


async def test_anthropic_min_cacheable_tokens_is_configurable(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    adapter = make_adapter("anthropic", min_cacheable_tokens=100)
    result = await adapter.complete(request("anthropic", system="s" * 400))
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    # below the emulated model minimum (1024): marked, but nothing is written
    assert result.usage.cache_write_tokens == 0
    assert result.usage.input_tokens == 113


async def test_anthropic_temperature_is_not_sent(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    chat = ChatRequest(
        custom_id="t",
        model="claude-test",
        messages=(ChatMessage("user", "hi"),),
        max_tokens=5,
        temperature=0.2,
    )
    assert (await make_adapter("anthropic").complete(chat)).ok
    assert "temperature" not in (await stats(http))["recent_requests"][-1]["body"]


async def test_openai_usage_is_normalized_and_cache_key_sent(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    adapter = make_adapter("openai")
    long_system = "s" * 5000
    first = await adapter.complete(request("openai", text="hi", system=long_system))
    assert first.usage.input_tokens == 1262 and first.usage.cache_read_tokens == 0
    second = await adapter.complete(request("openai", text="hi", system=long_system))
    # prompt_tokens 1262 includes 1152 cached: uncached input is the difference
    assert second.usage.as_dict() == {
        "input_tokens": 1262 - 1152,
        "output_tokens": 34,
        "cache_write_tokens": 0,
        "cache_read_tokens": 1152,
    }
    sent = (await stats(http))["recent_requests"][-1]["body"]
    assert sent["prompt_cache_key"] == hashlib.sha256(long_system.encode()).hexdigest()[:32]
    assert sent["max_completion_tokens"] == 100
    assert sent["messages"][0] == {"role": "system", "content": long_system}


async def test_openai_no_cache_key_without_system(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    assert (await make_adapter("openai").complete(request("openai"))).ok
    assert "prompt_cache_key" not in (await stats(http))["recent_requests"][-1]["body"]


# --- errors and retries -------------------------------------------------------------------


@both
async def test_429_retry_honors_retry_after(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[429], retry_after_s=0.3)
    # A 5 s backoff would be used if retry-after were ignored.
    adapter = make_adapter(provider, retry_policy=RetryPolicy(max_retries=2, base_delay_s=5.0))
    started = time.monotonic()
    result = await adapter.complete(request(provider))
    elapsed = time.monotonic() - started
    assert result.ok
    assert 0.3 <= elapsed < 3.0
    assert inference_calls(await stats(http)) == 2


@both
async def test_429_exhausted_after_two_retries(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=10, error_statuses=[429], retry_after_s=0.01)
    result = await make_adapter(provider).complete(request(provider))
    assert not result.ok
    assert result.error_code == "provider_rate_limited"
    assert result.retryable
    assert result.custom_id == "req-1" and result.model == MODELS[provider]
    assert inference_calls(await stats(http)) == 3  # first attempt + 2 retries


@both
async def test_retry_after_beyond_cap_stops_retrying(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[429], retry_after_s=30)
    adapter = make_adapter(provider, retry_policy=RetryPolicy(max_retry_after_s=1.0))
    result = await adapter.complete(request(provider))
    assert result.error_code == "provider_rate_limited"
    assert inference_calls(await stats(http)) == 1


@pytest.mark.parametrize(
    ("provider", "status", "code"),
    [
        ("anthropic", 500, "provider_server_error"),
        ("anthropic", 529, "provider_overloaded"),
        ("openai", 500, "provider_server_error"),
        ("openai", 503, "provider_overloaded"),
    ],
)
async def test_server_errors_are_retried_with_backoff(
    provider: str, status: int, code: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=3, error_statuses=[status], retry_after_s=None)
    result = await make_adapter(provider).complete(request(provider))
    assert (result.ok, result.error_code, result.retryable) == (False, code, True)
    assert inference_calls(await stats(http)) == 3

    await configure(http, fail_next_n=2)  # two failures, then the last retry succeeds
    assert (await make_adapter(provider).complete(request(provider))).ok


@both
async def test_timeout_maps_to_provider_timeout(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, timeout_rate=1.0, timeout_hang_s=30.0)
    adapter = make_adapter(provider, timeout_s=0.3, retry_policy=RetryPolicy(max_retries=0))
    started = time.monotonic()
    result = await adapter.complete(request(provider))
    assert time.monotonic() - started < 5
    assert (result.ok, result.error_code, result.retryable) == (False, "provider_timeout", True)


@both
async def test_bad_request_is_not_retried(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    result = await make_adapter(provider).complete(request(provider, max_tokens=0))
    assert (result.ok, result.error_code, result.retryable) == (
        False,
        "provider_bad_request",
        False,
    )
    assert result.error_message
    assert inference_calls(await stats(http)) == 1


@both
async def test_connection_error(provider: str, make_adapter: AdapterFactory) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    adapter = make_adapter(provider, base_url=base_url, retry_policy=RetryPolicy(max_retries=0))
    result = await adapter.complete(request(provider))
    assert (result.error_code, result.retryable) == ("provider_connection_error", True)


@both
async def test_unsupported_role_is_bad_request(provider: str, make_adapter: AdapterFactory) -> None:
    chat = ChatRequest("x", MODELS[provider], (ChatMessage("tool", "hi"),), max_tokens=5)
    result = await make_adapter(provider).complete(chat)
    assert result.error_code == "provider_bad_request"


# --- batches ------------------------------------------------------------------------------

# Ids our pipeline may use: long and full of characters Anthropic forbids.
LONG_IDS = ["tenant-a/req:" + "x" * 100 + "/1", "tenant-a/req: two ✓", "t" * 128]


async def wait_final(adapter: Adapter, batch_id: str) -> BatchState:
    for _ in range(200):
        poll = await adapter.poll_batch(batch_id)
        assert poll.batch_id == batch_id
        if poll.state != BatchState.PENDING:
            return poll.state
        await asyncio.sleep(0.05)
    raise AssertionError("batch never left PENDING")


def by_original_id(results: list[ChatResult], ids: list[str]) -> dict[str, ChatResult]:
    mapping = safe_id_map(ids)
    assert len(results) == len(ids)
    return {mapping[r.custom_id]: r for r in results}


@pytest.mark.parametrize(
    ("provider", "error_code"),
    [("anthropic", "provider_server_error"), ("openai", "provider_server_error")],
)
async def test_batch_lifecycle_with_partial_failure(
    provider: str, error_code: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_error_custom_ids=[safe_custom_id(LONG_IDS[1])])
    adapter = make_adapter(provider)
    requests = [
        request(provider, LONG_IDS[0], "hello", max_tokens=5),
        request(provider, LONG_IDS[1], "hi"),
        request(provider, LONG_IDS[2], "hi", max_tokens=0),  # rejected by the provider
    ]
    batch_id = await adapter.submit_batch(requests, {"tenant": "a"})
    assert (await adapter.poll_batch(batch_id)).state == BatchState.PENDING
    with pytest.raises(ProviderError) as early:
        await adapter.batch_results(batch_id)
    assert early.value.code == "batch_not_ended"

    assert await wait_final(adapter, batch_id) == BatchState.ENDED
    results = await adapter.batch_results(batch_id)
    assert all(is_safe_custom_id(r.custom_id) for r in results)
    outcome = by_original_id(results, LONG_IDS)

    good = outcome[LONG_IDS[0]]
    assert good.ok and good.model == MODELS[provider]
    assert good.usage.as_dict() == {
        "input_tokens": 9,
        "output_tokens": 5,
        "cache_write_tokens": 0,
        "cache_read_tokens": 0,
    }
    failed = outcome[LONG_IDS[1]]
    assert (failed.ok, failed.error_code, failed.retryable) == (False, error_code, True)
    invalid = outcome[LONG_IDS[2]]
    assert (invalid.ok, invalid.error_code, invalid.retryable) == (
        False,
        "provider_bad_request",
        False,
    )

    sent = [r for r in (await stats(http))["recent_requests"] if "batches" in r["endpoint"]]
    assert sent, "the batch create call was logged"


async def test_anthropic_batch_request_shape(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    adapter = make_adapter("anthropic")
    await adapter.submit_batch([request("anthropic", LONG_IDS[0], system="s" * 4400)], {})
    body = (await stats(http))["recent_requests"][-1]["body"]
    assert body["requests"][0]["custom_id"] == safe_custom_id(LONG_IDS[0])
    params = body["requests"][0]["params"]
    assert params["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert params["messages"] == [{"role": "user", "content": "hello"}]


async def test_openai_batch_input_file_shape(
    make_adapter: AdapterFactory, emulator: EmulatorServer
) -> None:
    adapter = make_adapter("openai")
    batch_id = await adapter.submit_batch(
        [request("openai", LONG_IDS[0], system="sys")], {"k": "v"}
    )
    batch = emulator.state.openai_batches[batch_id]
    assert batch.metadata == {"k": "v"}
    stored = emulator.state.files.get(batch.input_file_id)
    assert stored is not None and stored.purpose == "batch"
    (entry,) = [json.loads(line) for line in stored.content.decode().splitlines()]
    assert entry == {
        "custom_id": safe_custom_id(LONG_IDS[0]),
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-test",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "hello"},
            ],
            "max_completion_tokens": 100,
            "prompt_cache_key": hashlib.sha256(b"sys").hexdigest()[:32],
        },
    }


async def test_anthropic_batch_expiry_is_ended_with_expired_lines(
    make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_expire=True, batch_expire_completed=1)
    adapter = make_adapter("anthropic")
    ids = ["a", "b", "c"]
    batch_id = await adapter.submit_batch([request("anthropic", i) for i in ids], {})
    assert await wait_final(adapter, batch_id) == BatchState.ENDED
    outcome = by_original_id(await adapter.batch_results(batch_id), ids)
    assert outcome["a"].ok
    for key in ("b", "c"):
        assert (outcome[key].error_code, outcome[key].retryable) == ("batch_expired", True)


@pytest.mark.parametrize("expired_lines_written", [True, False])
async def test_openai_batch_expiry_reports_missing_as_expired(
    expired_lines_written: bool, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    await configure(
        http,
        batch_expire=True,
        batch_expire_completed=1,
        openai_expired_in_error_file=expired_lines_written,
    )
    adapter = make_adapter("openai")
    ids = ["a", "b", "c"]
    batch_id = await adapter.submit_batch([request("openai", i) for i in ids], {})
    assert await wait_final(adapter, batch_id) == BatchState.EXPIRED
    outcome = by_original_id(await adapter.batch_results(batch_id), ids)
    assert outcome["a"].ok and outcome["a"].usage.output_tokens == 50
    for key in ("b", "c"):
        assert outcome[key].error_code == "batch_expired"
        assert outcome[key].model == "gpt-test"  # recovered from the input file


async def test_anthropic_canceled_lines(
    make_adapter: AdapterFactory, http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    await configure(http, batch_delay_s=30)
    adapter = make_adapter("anthropic")
    batch_id = await adapter.submit_batch([request("anthropic", "a")], {})
    sdk = anthropic.AsyncAnthropic(api_key="k", base_url=emulator.anthropic_base_url)
    await sdk.messages.batches.cancel(batch_id)
    await sdk.close()
    assert await wait_final(adapter, batch_id) == BatchState.ENDED
    (result,) = await adapter.batch_results(batch_id)
    assert (result.error_code, result.retryable) == ("batch_canceled", True)


async def test_openai_failed_and_cancelled_batches_poll_failed(
    make_adapter: AdapterFactory, http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    adapter = make_adapter("openai")
    sdk = openai.AsyncOpenAI(api_key="k", base_url=emulator.openai_base_url)
    bad = await sdk.files.create(file=("b.jsonl", b"{oops\n", "application/jsonl"), purpose="batch")
    failed = await sdk.batches.create(
        input_file_id=bad.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert await wait_final(adapter, failed.id) == BatchState.FAILED
    assert "invalid_json_line" in (await adapter.poll_batch(failed.id)).detail

    await configure(http, batch_delay_s=30)
    batch_id = await adapter.submit_batch([request("openai", "a")], {})
    await sdk.batches.cancel(batch_id)
    await sdk.close()
    assert await wait_final(adapter, batch_id) == BatchState.FAILED
    (result,) = await adapter.batch_results(batch_id)
    assert result.error_code == "batch_canceled"


@both
async def test_batch_submit_rejects_empty_and_duplicates(
    provider: str, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter(provider)
    with pytest.raises(ProviderError) as empty:
        await adapter.submit_batch([], {})
    assert empty.value.code == "provider_bad_request"
    with pytest.raises(ProviderError):
        await adapter.submit_batch([request(provider, "same"), request(provider, "same")], {})


@both
async def test_batch_create_is_retried_only_when_not_processed(
    provider: str, make_adapter: AdapterFactory, http: httpx.AsyncClient
) -> None:
    endpoint = "POST /v1/messages/batches" if provider == "anthropic" else "POST /v1/batches"
    await configure(
        http, fault_endpoints=[endpoint], fail_next_n=1, error_statuses=[529], retry_after_s=0.01
    )
    adapter = make_adapter(provider)
    assert await adapter.submit_batch([request(provider)], {})  # 529: retried
    await configure(http, fail_next_n=1, error_statuses=[500])
    with pytest.raises(ProviderError) as info:
        await adapter.submit_batch([request(provider)], {})  # 500: maybe created, not retried
    assert (info.value.code, info.value.retryable) == ("provider_server_error", True)
    assert (await stats(http))["requests"][endpoint] == 3


@both
async def test_poll_unknown_batch_raises_not_found(
    provider: str, make_adapter: AdapterFactory
) -> None:
    with pytest.raises(ProviderError) as info:
        await make_adapter(provider).poll_batch("batch_does_not_exist")
    assert (info.value.code, info.value.retryable) == ("provider_not_found", False)


# --- ids and error helpers ----------------------------------------------------------------


def test_safe_custom_id() -> None:
    safe = safe_custom_id("tenant/ä request id with spaces" * 4)
    assert is_safe_custom_id(safe) and len(safe) == 41 and safe.startswith("r")
    assert safe == safe_custom_id("tenant/ä request id with spaces" * 4)
    assert safe_custom_id("a") != safe_custom_id("b")
    assert safe_id_map(["a", "b"]) == {safe_custom_id("a"): "a", safe_custom_id("b"): "b"}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, ErrorCode.RATE_LIMITED),
        (529, ErrorCode.OVERLOADED),
        (503, ErrorCode.OVERLOADED),
        (500, ErrorCode.SERVER_ERROR),
        (502, ErrorCode.SERVER_ERROR),
        (400, ErrorCode.BAD_REQUEST),
        (401, ErrorCode.AUTH_ERROR),
        (403, ErrorCode.AUTH_ERROR),
        (404, ErrorCode.NOT_FOUND),
        (409, ErrorCode.PROVIDER_ERROR),
    ],
)
def test_code_for_status(status: int, code: ErrorCode) -> None:
    assert code_for_status(status) == code


def test_classify_non_sdk_exceptions() -> None:
    # SDK exceptions are covered end to end above (429/5xx/timeout/connection/400/404).
    assert classify_exception(ValueError("boom")).code == ErrorCode.PROVIDER_ERROR
    assert not classify_exception(ValueError("boom")).retryable
    assert classify_exception(TimeoutError()).code == ErrorCode.TIMEOUT
    passthrough = classify_exception(ProviderError("batch_expired", "late", retryable=True))
    assert passthrough.code == ErrorCode.BATCH_EXPIRED and passthrough.retryable


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert (
        parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10.0
    )
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_policy_backoff_is_capped_with_jitter() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=1.0, max_delay_s=4.0, jitter=0.5)
    error = ClassifiedError(ErrorCode.SERVER_ERROR, "x")
    delays = [policy.delay_s(n, error) for n in range(1, 6)]
    assert all(d is not None for d in delays)
    assert 0.5 <= delays[0] <= 1.0  # type: ignore[operator]
    assert 2.0 <= delays[3] <= 4.0  # type: ignore[operator]
    assert policy.delay_s(6, error) is None  # out of retries
    assert policy.delay_s(1, ClassifiedError(ErrorCode.BAD_REQUEST, "x")) is None
    honored = ClassifiedError(ErrorCode.RATE_LIMITED, "x", 429, retry_after_s=0.7)
    assert policy.delay_s(1, honored) == 0.7


async def test_openai_find_batch_adopts_a_batch_accepted_before_a_crash(
    make_adapter: Callable[..., Adapter],
) -> None:
    adapter = make_adapter("openai")
    since = time.time() - 1
    ours = await adapter.submit_batch([request("openai", "a")], {BATCH_MARKER: "slice-1:0"})
    await adapter.submit_batch([request("openai", "b")], {BATCH_MARKER: "slice-2:0"})
    assert await adapter.find_batch("slice-1:0", since) == ours
    assert await adapter.find_batch("slice-9:0", since) is None
    assert await adapter.find_batch("slice-1:0", time.time() + 60) is None  # too old


async def test_anthropic_find_batch_cannot_tell(make_adapter: Callable[..., Adapter]) -> None:
    adapter = make_adapter("anthropic")
    await adapter.submit_batch([request("anthropic", "a")], {BATCH_MARKER: "slice-1:0"})
    assert await adapter.find_batch("slice-1:0", 0) is None


def test_anthropic_answer_read_from_its_json_body_as_from_the_sdk_message() -> None:
    """The immediate path reads the raw body; it must say what the typed Message says."""
    from anthropic.types import Message

    from frugalflow.providers.anthropic_adapter import _body_success, message_usage

    def _success(custom_id: str, message: Message) -> ChatResult:  # as read from the SDK's type
        text = "".join(b.text for b in message.content if b.type == "text")
        return ChatResult(custom_id=custom_id, ok=True, model=message.model, content=text,
                          usage=message_usage(message))  # fmt: skip

    body = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [
            {"type": "thinking", "thinking": "hm", "signature": "s"},
            {"type": "text", "text": "Hello, "}, {"type": "text", "text": "world."},
        ],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {
            "input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 300,
            "cache_read_input_tokens": 1500,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        },
    }  # fmt: skip
    typed = _success("r1", Message.model_validate(body))
    assert _body_success("r1", body) == typed
    assert typed.content == "Hello, world." and typed.usage.cache_write_1h_tokens == 200
    bare = {**body, "usage": {"input_tokens": 3, "output_tokens": 1}}
    assert _body_success("r1", bare) == _success("r1", Message.model_validate(bare))


def test_anthropic_batch_lines_read_from_json_as_the_sdk_types_them() -> None:
    """Batch results are read raw too: each result type of the SDK's schema, as JSON."""
    from anthropic.types.messages import MessageBatchIndividualResponse

    from frugalflow.providers.anthropic_adapter import _line_result

    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hi."}], "stop_reason": "end_turn",
        "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 2},
    }  # fmt: skip
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "too long"}}
    results = {
        "ok": {"type": "succeeded", "message": message},
        "bad": {"type": "errored", "error": error},
        "gone": {"type": "canceled"},
        "late": {"type": "expired"},
    }
    outcome = {}
    for custom_id, result in results.items():
        typed = MessageBatchIndividualResponse.model_validate(
            {"custom_id": custom_id, "result": result}
        )
        outcome[custom_id] = _line_result(typed.model_dump(mode="json"))
    assert outcome["ok"].ok and outcome["ok"].content == "Hi."
    assert (outcome["ok"].model, outcome["ok"].usage.input_tokens) == ("claude-haiku-4-5", 5)
    assert (outcome["bad"].error_code, outcome["bad"].error_message) == (
        "provider_bad_request", "too long")  # fmt: skip
    assert outcome["gone"].error_code == "batch_canceled"
    assert outcome["late"].error_code == "batch_expired"
    future = _line_result({"custom_id": "x", "result": {"type": "deferred"}})
    assert (future.ok, future.error_code) == (False, "provider_error")


def test_openai_answer_read_from_its_json_body_as_from_the_sdk_completion() -> None:
    from dataclasses import replace

    from openai.types.chat import ChatCompletion

    from frugalflow.providers.openai_adapter import (
        billed_mode,
        chat_completion_text,
        chat_success,
        chat_usage,
        completion_result,
    )

    body = {
        "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-5.4-mini",
        "service_tier": "flex",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hi there."}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 9, "total_tokens": 1209,
                  "prompt_tokens_details": {"cached_tokens": 1024}},
    }  # fmt: skip
    completion = ChatCompletion.model_validate(body)
    typed = replace(
        chat_success("r1", completion.model, chat_completion_text(completion),
                     chat_usage(completion.usage)),
        service_tier=billed_mode(completion.service_tier),
    )  # fmt: skip
    assert completion_result("r1", "asked-model", body) == typed
    assert typed.service_tier == "flex" and typed.usage.cache_read_tokens == 1024


def test_an_unreadable_anthropic_results_line_is_a_retryable_provider_error() -> None:
    """A line that is not a JSON object fails the poll (polled again later), not the worker."""
    from frugalflow.providers.anthropic_adapter import _json_line

    for line in (b'{"custom_id": "a", "result": ', b'["not", "an", "object"]'):
        with pytest.raises(ProviderError) as info:
            _json_line(line, "msgbatch_1")
        assert (info.value.code, info.value.retryable) == ("provider_error", True)
        assert "msgbatch_1" in info.value.message
    assert _json_line(b'{"custom_id": "a"}', "msgbatch_1") == {"custom_id": "a"}
