"""The emulator's Anthropic surface, exercised with the official ``anthropic`` SDK.

Token numbers follow the documented rule (app/emulator/tokens.py): ceil(chars/4) per text
block, +4 per message (a top-level system counts as one), +3 per request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import pytest

from frugalflow.emulator import EmulatorConfig, EmulatorServer
from frugalflow.emulator.config import ENV_CONFIG_FILE
from tests.emulator.support import configure, stats

MODEL = "claude-test"
LONG = "x" * 5000  # 1250 tokens
API_KEY = "sk-ant-secret-test-key"


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    sdk = anthropic.AsyncAnthropic(
        api_key=API_KEY, base_url=emulator.anthropic_base_url, max_retries=0, timeout=10.0
    )
    yield sdk
    await sdk.close()


def cached_system(text: str, ttl: str | None = None) -> list[Any]:
    cache_control: dict[str, str] = {"type": "ephemeral"}
    if ttl:
        cache_control["ttl"] = ttl
    return [{"type": "text", "text": text, "cache_control": cache_control}]


# --- immediate messages -------------------------------------------------------------------


async def test_message_shape_usage_and_determinism(client: anthropic.AsyncAnthropic) -> None:
    first = await client.messages.create(
        model=MODEL, max_tokens=100, system="abcd", messages=[{"role": "user", "content": "hello"}]
    )
    assert first.type == "message" and first.role == "assistant" and first.model == MODEL
    assert first.id.startswith("msg_")
    assert first.stop_reason == "end_turn"
    text = first.content[0].text  # type: ignore[union-attr]
    assert text.startswith(f"[emulated {MODEL}] answer ")
    # 3 (request) + 4+1 (system "abcd") + 4+2 (user "hello")
    assert first.usage.input_tokens == 14
    assert first.usage.output_tokens == 14
    assert first.usage.cache_creation_input_tokens == 0
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.service_tier == "standard"
    assert (len(text) + 3) // 4 == first.usage.output_tokens  # the text re-tokenizes exactly

    second = await client.messages.create(
        model=MODEL, max_tokens=100, system="abcd", messages=[{"role": "user", "content": "hello"}]
    )
    assert second.content == first.content
    assert second.usage == first.usage


async def test_max_tokens_caps_output(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hello"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5
    assert message.content[0].text == "[emulated claude-test] "[:20]  # type: ignore[union-attr]
    assert message.usage.input_tokens == 3 + 4 + 2


async def test_multi_turn_and_block_content_count(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model=MODEL,
        max_tokens=50,
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "a" * 9}]},  # 3 tokens
            {"role": "assistant", "content": "b" * 8},  # 2
            {"role": "user", "content": "c" * 4},  # 1
        ],
    )
    assert message.usage.input_tokens == 3 + (4 + 3) + (4 + 2) + (4 + 1)


# --- prompt caching -----------------------------------------------------------------------


async def test_cache_write_then_read(client: anthropic.AsyncAnthropic) -> None:
    async def call() -> anthropic.types.Message:
        return await client.messages.create(
            model=MODEL,
            max_tokens=10,
            system=cached_system(LONG),
            messages=[{"role": "user", "content": "hello"}],
        )

    first = await call()
    prefix = 3 + 4 + 1250  # everything up to and including the cached system block
    assert first.usage.cache_creation_input_tokens == prefix
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.input_tokens == 4 + 2  # only the uncached user turn
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == prefix
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == 0

    second = await call()
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == prefix
    assert second.usage.input_tokens == 6


async def test_cache_1h_ttl_reported(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model=MODEL,
        max_tokens=10,
        system=cached_system(LONG, ttl="1h"),
        messages=[{"role": "user", "content": "hello"}],
    )
    assert message.usage.cache_creation is not None
    assert message.usage.cache_creation.ephemeral_1h_input_tokens == 1257
    assert message.usage.cache_creation.ephemeral_5m_input_tokens == 0


async def test_cache_below_minimum_is_not_cached(client: anthropic.AsyncAnthropic) -> None:
    for _ in range(2):
        message = await client.messages.create(
            model=MODEL,
            max_tokens=10,
            system=cached_system("s" * 400),  # 100 tokens: prefix 107 < 1024
            messages=[{"role": "user", "content": "hello"}],
        )
        assert message.usage.cache_creation_input_tokens == 0
        assert message.usage.cache_read_input_tokens == 0
        assert message.usage.input_tokens == 3 + 4 + 100 + 4 + 2


async def test_cache_minimum_is_configurable_per_model(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, anthropic_cache_min_tokens_by_model={MODEL: 100})
    message = await client.messages.create(
        model=MODEL,
        max_tokens=10,
        system=cached_system("s" * 400),
        messages=[{"role": "user", "content": "hello"}],
    )
    assert message.usage.cache_creation_input_tokens == 107


async def test_cache_entries_expire_after_ttl(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, cache_ttl_override_s=0.2)
    kwargs: Any = {
        "model": MODEL,
        "max_tokens": 10,
        "system": cached_system(LONG),
        "messages": [{"role": "user", "content": "hello"}],
    }
    assert (await client.messages.create(**kwargs)).usage.cache_creation_input_tokens == 1257
    await asyncio.sleep(0.35)
    again = await client.messages.create(**kwargs)
    assert again.usage.cache_creation_input_tokens == 1257
    assert again.usage.cache_read_input_tokens == 0


async def test_two_breakpoints_read_longest_hit_and_write_the_rest(
    client: anthropic.AsyncAnthropic,
) -> None:
    async def call(document: str) -> anthropic.types.Message:
        return await client.messages.create(
            model=MODEL,
            max_tokens=10,
            system=cached_system(LONG),
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": document, "cache_control": {"type": "ephemeral"}},
                        {"type": "text", "text": "question"},
                    ],
                }
            ],
        )

    first = await call("y" * 2000)  # breakpoint 2 ends at 1257 + 4 + 500 = 1761
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation_input_tokens == 1761
    assert first.usage.input_tokens == 2  # "question"

    other_document = await call("z" * 2000)  # system prefix hits, the document is new
    assert other_document.usage.cache_read_input_tokens == 1257
    assert other_document.usage.cache_creation_input_tokens == 504
    assert other_document.usage.input_tokens == 2

    same_again = await call("y" * 2000)
    assert same_again.usage.cache_read_input_tokens == 1761
    assert same_again.usage.cache_creation_input_tokens == 0


async def test_top_level_cache_control_marks_last_block(client: anthropic.AsyncAnthropic) -> None:
    kwargs: Any = {
        "model": MODEL,
        "max_tokens": 10,
        "cache_control": {"type": "ephemeral"},
        "messages": [{"role": "user", "content": LONG}],
    }
    first = await client.messages.create(**kwargs)
    assert first.usage.cache_creation_input_tokens == 3 + 4 + 1250
    assert first.usage.input_tokens == 0
    second = await client.messages.create(**kwargs)
    assert second.usage.cache_read_input_tokens == 1257


async def test_cache_is_per_model(client: anthropic.AsyncAnthropic) -> None:
    for model in (MODEL, "claude-other"):
        message = await client.messages.create(
            model=model,
            max_tokens=10,
            system=cached_system(LONG),
            messages=[{"role": "user", "content": "hello"}],
        )
        assert message.usage.cache_creation_input_tokens == 1257


async def test_too_many_breakpoints_is_400(client: anthropic.AsyncAnthropic) -> None:
    block: Any = {"type": "text", "text": "t", "cache_control": {"type": "ephemeral"}}
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": [block] * 5}]
        )
    assert "maximum of 4 blocks" in str(info.value)


# --- malformed requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
            "model: Field required",
        ),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
            "max_tokens: Field required",
        ),
        ({"model": MODEL, "max_tokens": 10}, "messages: Field required"),
        (
            {"model": MODEL, "max_tokens": 10, "messages": [{"role": "bot", "content": "hi"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
    ],
)
async def test_malformed_request_is_400_in_anthropic_shape(
    http: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    response = await http.post("/v1/messages", json=body, headers={"x-api-key": API_KEY})
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"] == {"type": "invalid_request_error", "message": message}
    assert payload["request_id"].startswith("req_")
    assert response.headers["request-id"]


async def test_invalid_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_sdk_sees_bad_request(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model=MODEL, max_tokens=10, messages=[])
    assert info.value.status_code == 400
    assert info.value.type == "invalid_request_error"


async def test_sampling_params_rejected_on_new_api_version(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    # SDK 2.x sends anthropic-version 2026-10-21, which rejects temperature.
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"temperature": 0.5},
        )
    assert info.value.api_message == "temperature: Extra inputs are not permitted"
    legacy = await http.post(
        "/v1/messages",
        json={
            "model": MODEL,
            "max_tokens": 10,
            "temperature": 0.5,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"anthropic-version": "2023-06-01"},
    )
    assert legacy.status_code == 200


async def test_unknown_route_is_404_not_found_error(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/messages/nope/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


# --- faults -------------------------------------------------------------------------------


async def test_fault_429_has_rate_limit_shape_and_retry_after(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[429], retry_after_s=0.2)
    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.type == "rate_limit_error"
    headers = info.value.response.headers
    assert headers["retry-after"] == "1"
    assert headers["retry-after-ms"] == "200"
    # consumed: the next call succeeds
    ok = await client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    assert ok.usage.output_tokens == 5
    snapshot = await stats(http)
    assert snapshot["faults"] == {"error_429": 1}
    assert snapshot["requests"]["POST /v1/messages"] == 2
    assert snapshot["responses_by_status"] == {"429": 1, "200": 1}


@pytest.mark.parametrize(
    ("status", "exc_type", "error_type"),
    [
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_fault_5xx_shapes(
    client: anthropic.AsyncAnthropic,
    http: httpx.AsyncClient,
    status: int,
    exc_type: type[anthropic.APIStatusError],
    error_type: str,
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[status])
    with pytest.raises(exc_type) as info:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == status
    assert info.value.type == error_type


async def test_error_rate_is_deterministic_for_a_seed(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    async def outcomes() -> list[int]:
        seen = []
        for _ in range(12):
            try:
                await client.messages.create(
                    model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
                )
                seen.append(200)
            except anthropic.APIStatusError as exc:
                seen.append(exc.status_code)
        return seen

    await configure(http, error_rate=0.5, error_statuses=[429, 500, 529], seed=7)
    first = await outcomes()
    await configure(http, seed=7)  # re-seeding replays the same dice
    assert await outcomes() == first
    assert 200 in first and set(first) - {200}


async def test_timeout_fault_hangs_past_client_timeout(
    emulator: EmulatorServer, http: httpx.AsyncClient
) -> None:
    await configure(http, timeout_rate=1.0, timeout_hang_s=30.0)
    impatient = anthropic.AsyncAnthropic(
        api_key=API_KEY, base_url=emulator.anthropic_base_url, max_retries=0, timeout=0.3
    )
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        await impatient.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert time.monotonic() - started < 5
    await impatient.close()
    assert (await stats(http))["faults"] == {"timeout": 1}


async def test_latency_is_added(client: anthropic.AsyncAnthropic, http: httpx.AsyncClient) -> None:
    await configure(http, latency_ms=250)
    started = time.monotonic()
    await client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    assert time.monotonic() - started >= 0.25


async def test_batch_endpoints_are_not_faulted_by_default(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, error_rate=1.0)
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.batches.retrieve("msgbatch_unknown")  # a real 404, not a fault
    await configure(http, fault_endpoints=["*"], error_statuses=[500])
    with pytest.raises(anthropic.InternalServerError):
        await client.messages.batches.retrieve("msgbatch_unknown")


# --- batches ------------------------------------------------------------------------------


def batch_request(custom_id: str, text: str, **params: Any) -> Any:
    return {
        "custom_id": custom_id,
        "params": {
            "model": MODEL,
            "max_tokens": 5,
            "messages": [{"role": "user", "content": text}],
            **params,
        },
    }


async def wait_ended(client: anthropic.AsyncAnthropic, batch_id: str) -> Any:
    for _ in range(100):
        batch = await client.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended":
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError("batch did not end")


async def test_batch_lifecycle(client: anthropic.AsyncAnthropic, http: httpx.AsyncClient) -> None:
    created = await client.messages.batches.create(
        requests=[
            batch_request("req-1", "hello"),
            batch_request("req-2", "hi", system=cached_system(LONG)),
            {"custom_id": "req-3", "params": {"model": MODEL, "messages": []}},  # invalid
        ]
    )
    assert created.id.startswith("msgbatch_")
    assert created.processing_status == "in_progress"
    assert created.request_counts.processing == 3
    assert created.results_url is None and created.ended_at is None
    assert (created.expires_at - created.created_at).total_seconds() == 24 * 3600

    ended = await wait_ended(client, created.id)
    assert ended.ended_at is not None
    assert ended.results_url.endswith(f"/v1/messages/batches/{created.id}/results")
    counts = ended.request_counts
    assert (counts.processing, counts.succeeded, counts.errored) == (0, 2, 1)
    assert (counts.canceled, counts.expired) == (0, 0)

    lines = {
        line.custom_id: line.result
        async for line in await client.messages.batches.results(created.id)
    }
    assert lines["req-1"].type == "succeeded"
    message = lines["req-1"].message  # type: ignore[union-attr]
    assert message.usage.input_tokens == 9 and message.usage.output_tokens == 5
    assert message.usage.service_tier == "batch"
    cached = lines["req-2"].message  # type: ignore[union-attr]
    assert cached.usage.cache_creation_input_tokens == 1257  # same cache logic as immediate
    assert lines["req-3"].type == "errored"
    error = lines["req-3"].error.error  # type: ignore[union-attr]
    assert error.type == "invalid_request_error"
    assert error.message == "max_tokens: Field required"

    # the batch warmed the cache for immediate calls
    immediate = await client.messages.create(
        model=MODEL,
        max_tokens=5,
        system=cached_system(LONG),
        messages=[{"role": "user", "content": "hi"}],
    )
    assert immediate.usage.cache_read_input_tokens == 1257
    assert (await stats(http))["batches_created"] == {"anthropic": 1}


async def test_results_before_end_is_refused(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_delay_s=30)
    created = await client.messages.batches.create(requests=[batch_request("a", "hi")])
    response = await http.get(f"/v1/messages/batches/{created.id}/results")
    assert response.status_code == 400


async def test_batch_partial_failure_by_custom_id(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_error_custom_ids=["bad"])
    created = await client.messages.batches.create(
        requests=[batch_request("good", "hi"), batch_request("bad", "hi")]
    )
    ended = await wait_ended(client, created.id)
    assert (ended.request_counts.succeeded, ended.request_counts.errored) == (1, 1)
    lines = {
        line.custom_id: line.result
        async for line in await client.messages.batches.results(created.id)
    }
    assert lines["good"].type == "succeeded"
    assert lines["bad"].error.error.type == "api_error"  # type: ignore[union-attr]


async def test_batch_error_rate_is_hashed_per_custom_id(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_error_rate=0.5, seed=3)
    ids = [f"id-{i}" for i in range(20)]
    outcomes = []
    for _ in range(2):
        created = await client.messages.batches.create(
            requests=[batch_request(i, "hi") for i in ids]
        )
        await wait_ended(client, created.id)
        decoder = await client.messages.batches.results(created.id)
        outcomes.append({line.custom_id: line.result.type async for line in decoder})
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0].values()) == {"succeeded", "errored"}


async def test_batch_expiry(client: anthropic.AsyncAnthropic, http: httpx.AsyncClient) -> None:
    await configure(http, batch_expire=True, batch_expire_completed=1)
    created = await client.messages.batches.create(
        requests=[
            batch_request("first", "hi"),
            batch_request("second", "hi"),
            batch_request("third", "hi"),
        ]
    )
    ended = await wait_ended(client, created.id)
    assert ended.processing_status == "ended"
    assert (ended.request_counts.succeeded, ended.request_counts.expired) == (1, 2)
    lines = [line async for line in await client.messages.batches.results(created.id)]
    assert [(line.custom_id, line.result.type) for line in lines] == [
        ("first", "succeeded"),
        ("second", "expired"),
        ("third", "expired"),
    ]


async def test_batch_cancel(client: anthropic.AsyncAnthropic, http: httpx.AsyncClient) -> None:
    await configure(http, batch_delay_s=30)
    created = await client.messages.batches.create(
        requests=[batch_request("a", "hi"), batch_request("b", "hi")]
    )
    canceling = await client.messages.batches.cancel(created.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    ended = await wait_ended(client, created.id)
    assert ended.request_counts.canceled == 2
    types = {line.result.type async for line in await client.messages.batches.results(created.id)}
    assert types == {"canceled"}


async def test_batch_envelope_validation(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="custom_id"):
        await client.messages.batches.create(requests=[batch_request("has space", "hi")])
    with pytest.raises(anthropic.BadRequestError, match="duplicate"):
        await client.messages.batches.create(
            requests=[batch_request("a", "x"), batch_request("a", "y")]
        )
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.batches.retrieve("msgbatch_missing")


async def test_batch_list_newest_first_with_pagination(client: anthropic.AsyncAnthropic) -> None:
    ids = [
        (await client.messages.batches.create(requests=[batch_request("a", "hi")])).id
        for _ in range(3)
    ]
    listed = [batch.id async for batch in client.messages.batches.list(limit=2)]
    assert listed == ids[::-1]
    page = await client.messages.batches.list(limit=2)
    assert page.has_more is True and page.first_id == ids[2] and page.last_id == ids[1]


# --- control endpoints and config ---------------------------------------------------------


async def test_control_endpoints(client: anthropic.AsyncAnthropic, http: httpx.AsyncClient) -> None:
    await client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    snapshot = await stats(http)
    assert snapshot["requests"] == {"POST /v1/messages": 1}
    recent = snapshot["recent_requests"][-1]
    assert recent["endpoint"] == "POST /v1/messages"
    assert recent["body"]["messages"] == [{"role": "user", "content": "hi"}]
    assert API_KEY not in json.dumps(snapshot)  # keys are never recorded

    bad = await http.put("/_emulator/config", json={"no_such_field": 1})
    assert bad.status_code == 400
    bad = await http.put("/_emulator/config", json={"error_rate": 2})
    assert bad.status_code == 400
    assert (await configure(http, latency_ms=5))["latency_ms"] == 5
    assert (await http.get("/_emulator/config")).json()["latency_ms"] == 5

    reset = await http.post("/_emulator/reset")
    assert reset.status_code == 200
    assert reset.json()["config"]["latency_ms"] == 0
    assert (await stats(http))["requests_total"] == 0


def test_config_from_env_and_file(tmp_path: Any) -> None:
    file = tmp_path / "emulator.json"
    file.write_text(json.dumps({"batch_delay_s": 0.5, "latency_ms": 10}))
    config = EmulatorConfig.from_env(
        {
            ENV_CONFIG_FILE: str(file),
            "FRUGALFLOW_EMULATOR_LATENCY_MS": "25",
            "FRUGALFLOW_EMULATOR_ERROR_STATUSES": "429,503",
            "FRUGALFLOW_EMULATOR_BATCH_ERROR_CUSTOM_IDS": '["a", "b"]',
            "FRUGALFLOW_EMULATOR_BATCH_EXPIRE": "true",
            "FRUGALFLOW_EMULATOR_RETRY_AFTER_S": "null",
            "FRUGALFLOW_EMULATOR_SEED": "42",
        }
    )
    assert config.batch_delay_s == 0.5  # from the file
    assert config.latency_ms == 25  # env wins over the file
    assert config.error_statuses == [429, 503]
    assert config.batch_error_custom_ids == ["a", "b"]
    assert config.batch_expire is True
    assert config.retry_after_s is None
    assert config.seed == 42
    with pytest.raises(ValueError):
        EmulatorConfig.from_env({"FRUGALFLOW_EMULATOR_ERROR_RATE": "1.5"})
