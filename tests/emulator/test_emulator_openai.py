"""The emulator's OpenAI surface, exercised with the official ``openai`` SDK.

Token numbers follow the documented rule (app/emulator/tokens.py): ceil(chars/4) per text
part, +4 per message, +3 per request. Automatic caching: prompts >= 1024 tokens, cached in
128-token increments of the shared prefix.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from frugalflow.emulator import EmulatorServer
from frugalflow.providers.openai_adapter import billed_mode
from tests.emulator.support import configure

MODEL = "gpt-test"
LONG = "x" * 5000  # 1250 tokens
API_KEY = "sk-openai-secret-test-key"


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(
        api_key=API_KEY, base_url=emulator.openai_base_url, max_retries=0, timeout=10.0
    )
    yield sdk
    await sdk.close()


async def chat(client: openai.AsyncOpenAI, *messages: Any, **kwargs: Any) -> Any:
    return await client.chat.completions.create(model=MODEL, messages=list(messages), **kwargs)


def system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


# --- chat completions ---------------------------------------------------------------------


async def test_completion_shape_usage_and_determinism(client: openai.AsyncOpenAI) -> None:
    first = await chat(client, system("abcd"), user("hello"))
    assert first.object == "chat.completion" and first.model == MODEL
    assert first.id.startswith("chatcmpl-")
    choice = first.choices[0]
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content.startswith(f"[emulated {MODEL}] answer ")
    usage = first.usage
    assert usage.prompt_tokens == 3 + (4 + 1) + (4 + 2)
    assert usage.completion_tokens == 50
    assert usage.total_tokens == 64
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details.reasoning_tokens == 0
    assert (len(choice.message.content) + 3) // 4 == usage.completion_tokens

    second = await chat(client, system("abcd"), user("hello"))
    assert second.choices[0].message.content == choice.message.content
    assert second.usage == usage


async def test_the_service_tier_asked_for_is_the_one_reported(
    client: openai.AsyncOpenAI,
) -> None:
    assert (await chat(client, user("hi"))).service_tier == "default"
    assert (await chat(client, user("hi"), service_tier="flex")).service_tier == "flex"
    assert (await chat(client, user("hi"), service_tier="priority")).service_tier == "priority"
    assert (await chat(client, user("hi"), service_tier="auto")).service_tier == "default"
    with pytest.raises(openai.BadRequestError, match="service_tier"):
        await chat(client, user("hi"), service_tier="turbo")
    # what the adapter bills the answer at
    assert [billed_mode(t) for t in ("flex", "priority", "default", "scale", None)] == [
        "flex", "priority", "standard", "standard", "standard"
    ]  # fmt: skip


async def test_flex_is_slower_and_refused_when_out_of_capacity(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, flex_latency_ms=300, flex_refuse_next_n=2)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as info:
            await chat(client, user("hi"), service_tier="flex")
        assert info.value.code == "resource_unavailable"
        assert info.value.response.headers["retry-after-ms"] == "200"
    started = time.monotonic()
    served = await chat(client, user("hi"), service_tier="flex")
    assert served.service_tier == "flex" and time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert (await chat(client, user("hi"))).service_tier == "default"  # the standard tier
    assert time.monotonic() - started < 0.3
    # a refusal rate refuses about that share of flex calls, from seeded dice
    await configure(http, flex_latency_ms=0, flex_refusal_rate=0.5)
    refusals = 0
    for _ in range(40):
        try:
            await chat(client, user("hi"), service_tier="flex")
        except openai.RateLimitError:
            refusals += 1
    assert 8 <= refusals <= 32
    cache = (await http.get("/_emulator/stats")).json()["cache"]
    assert cache["flex_refused"] == 2 + refusals and cache["flex_served"] == 1 + 40 - refusals


async def test_max_completion_tokens_and_legacy_max_tokens(client: openai.AsyncOpenAI) -> None:
    capped = await chat(client, user("hello"), max_completion_tokens=7)
    assert capped.usage.completion_tokens == 7
    assert capped.choices[0].finish_reason == "length"
    legacy = await chat(client, user("hello"), max_tokens=3)
    assert legacy.usage.completion_tokens == 3
    assert legacy.choices[0].message.content == "[emulated gp"


async def test_content_parts_are_counted(client: openai.AsyncOpenAI) -> None:
    completion = await chat(
        client,
        {"role": "developer", "content": [{"type": "text", "text": "d" * 12}]},  # 3
        user("u" * 5),  # 2
    )
    assert completion.usage.prompt_tokens == 3 + (4 + 3) + (4 + 2)


# --- automatic prompt caching -------------------------------------------------------------


async def test_automatic_cache_in_128_token_increments(client: openai.AsyncOpenAI) -> None:
    first = await chat(client, system(LONG), user("hi"))
    assert first.usage.prompt_tokens == 3 + 4 + 1250 + 4 + 1  # 1262
    assert first.usage.prompt_tokens_details.cached_tokens == 0

    second = await chat(client, system(LONG), user("hi"))
    assert second.usage.prompt_tokens == 1262  # prompt_tokens includes cached tokens
    assert second.usage.prompt_tokens_details.cached_tokens == 1152  # 1024 + 128

    # A different tail still reuses the shared prefix (boundaries 1024 and 1152 <= 1257).
    other = await chat(client, system(LONG), user("a" * 1000))
    assert other.usage.prompt_tokens == 1257 + 4 + 250
    assert other.usage.prompt_tokens_details.cached_tokens == 1152
    again = await chat(client, system(LONG), user("a" * 1000))
    assert again.usage.prompt_tokens_details.cached_tokens == 1024 + 3 * 128


async def test_short_prompts_are_never_cached(client: openai.AsyncOpenAI) -> None:
    for _ in range(2):
        completion = await chat(client, system("s" * 4000), user("hi"))  # 1012 tokens
        assert completion.usage.prompt_tokens == 3 + 4 + 1000 + 4 + 1
        assert completion.usage.prompt_tokens_details.cached_tokens == 0


async def test_prompt_cache_key_partitions_the_cache(client: openai.AsyncOpenAI) -> None:
    await chat(client, system(LONG), user("hi"), prompt_cache_key="tenant-a")
    same_key = await chat(client, system(LONG), user("hi"), prompt_cache_key="tenant-a")
    assert same_key.usage.prompt_tokens_details.cached_tokens == 1152
    other_key = await chat(client, system(LONG), user("hi"), prompt_cache_key="tenant-b")
    assert other_key.usage.prompt_tokens_details.cached_tokens == 0


async def test_cache_is_per_model(client: openai.AsyncOpenAI) -> None:
    await chat(client, system(LONG), user("hi"))
    other = await client.chat.completions.create(
        model="gpt-other",
        messages=[system(LONG), user("hi")],  # type: ignore[list-item]
    )
    assert other.usage is not None
    assert other.usage.prompt_tokens_details is not None
    assert other.usage.prompt_tokens_details.cached_tokens == 0


async def test_cache_expires_after_ttl(client: openai.AsyncOpenAI, http: httpx.AsyncClient) -> None:
    await configure(http, cache_ttl_override_s=0.2)
    await chat(client, system(LONG), user("hi"))
    await asyncio.sleep(0.35)
    later = await chat(client, system(LONG), user("hi"))
    assert later.usage.prompt_tokens_details.cached_tokens == 0


# --- malformed requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model", "missing_required_parameter"),
        ({"model": MODEL}, "messages", "missing_required_parameter"),
        ({"model": MODEL, "messages": []}, "messages", "empty_array"),
        (
            {"model": MODEL, "messages": [{"role": "robot", "content": "hi"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0},
            "max_completion_tokens",
            "invalid_value",
        ),
    ],
)
async def test_malformed_request_is_400_in_openai_shape(
    http: httpx.AsyncClient, body: dict[str, Any], param: str, code: str
) -> None:
    response = await http.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)


async def test_sdk_sees_bad_request(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await chat(client)
    assert info.value.code == "empty_array"
    assert info.value.param == "messages"


async def test_unknown_route_is_404_in_openai_shape(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


# --- faults -------------------------------------------------------------------------------


async def test_fault_429_shape_and_retry_after(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=1, error_statuses=[429], retry_after_s=1.5)
    with pytest.raises(openai.RateLimitError) as info:
        await chat(client, user("hi"))
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.response.headers["retry-after-ms"] == "1500"
    assert (await chat(client, user("hi"))).usage.completion_tokens == 34


async def test_fault_500_and_fail_next_cycles_statuses(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, fail_next_n=2, error_statuses=[500, 503])
    with pytest.raises(openai.InternalServerError) as first:
        await chat(client, user("hi"))
    assert first.value.status_code == 500
    assert first.value.type == "server_error"
    with pytest.raises(openai.InternalServerError) as second:
        await chat(client, user("hi"))
    assert second.value.status_code == 503
    await chat(client, user("hi"))


async def test_timeout_fault(emulator: EmulatorServer, http: httpx.AsyncClient) -> None:
    await configure(http, timeout_rate=1.0, timeout_hang_s=30.0)
    impatient = openai.AsyncOpenAI(
        api_key=API_KEY, base_url=emulator.openai_base_url, max_retries=0, timeout=0.3
    )
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await impatient.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert time.monotonic() - started < 5
    await impatient.close()


# --- files --------------------------------------------------------------------------------


async def test_file_upload_retrieve_and_content(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    uploaded = await client.files.create(
        file=("input.jsonl", b'{"a": 1}\n', "application/jsonl"), purpose="batch"
    )
    assert uploaded.id.startswith("file-")
    assert (uploaded.object, uploaded.purpose, uploaded.bytes, uploaded.filename) == (
        "file",
        "batch",
        9,
        "input.jsonl",
    )
    assert (await client.files.retrieve(uploaded.id)).id == uploaded.id
    assert (await client.files.content(uploaded.id)).content == b'{"a": 1}\n'
    with pytest.raises(openai.NotFoundError):
        await client.files.retrieve("file-missing")
    with pytest.raises(openai.BadRequestError):
        await client.files.create(file=("x.jsonl", b"{}", "application/jsonl"), purpose="nonsense")  # type: ignore[arg-type]
    recent = (await http.get("/_emulator/stats")).json()["recent_requests"]
    assert {"filename": "input.jsonl", "purpose": "batch", "bytes": 9} in [
        r["body"] for r in recent
    ]


# --- batches ------------------------------------------------------------------------------


def line(custom_id: str, text: str, **body: Any) -> str:
    return json.dumps(
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": text}], **body},
        }
    )


async def create_batch(client: openai.AsyncOpenAI, *lines: str) -> Any:
    data = ("\n".join(lines) + "\n").encode()
    uploaded = await client.files.create(
        file=("batch.jsonl", data, "application/jsonl"), purpose="batch"
    )
    return await client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"tenant": "t1"},
    )


async def wait_done(client: openai.AsyncOpenAI, batch_id: str) -> Any:
    for _ in range(100):
        batch = await client.batches.retrieve(batch_id)
        if batch.status in ("completed", "expired", "failed", "cancelled"):
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError("batch did not finish")


async def jsonl(client: openai.AsyncOpenAI, file_id: str | None) -> dict[str, Any]:
    assert file_id is not None
    text = (await client.files.content(file_id)).text
    return {entry["custom_id"]: entry for entry in map(json.loads, text.splitlines())}


async def test_batch_lifecycle_with_output_and_error_files(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_error_custom_ids=["boom"])
    created = await create_batch(
        client,
        line("ok-1", "hello", max_completion_tokens=5),
        line("ok-2", "hi"),
        line("boom", "hi"),
        json.dumps(
            {
                "custom_id": "bad",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": MODEL},
            }
        ),
    )
    assert created.id.startswith("batch_")
    assert created.status == "validating"
    assert created.metadata == {"tenant": "t1"}
    assert created.expires_at == created.created_at + 24 * 3600

    done = await wait_done(client, created.id)
    assert done.status == "completed"
    assert done.model == MODEL
    assert (
        done.request_counts.total,
        done.request_counts.completed,
        done.request_counts.failed,
    ) == (4, 2, 2)
    assert None not in (done.in_progress_at, done.finalizing_at, done.completed_at)
    assert done.usage.input_tokens == 9 + 8
    assert done.usage.output_tokens == 5 + 34

    outputs = await jsonl(client, done.output_file_id)
    assert set(outputs) == {"ok-1", "ok-2"}
    ok = outputs["ok-1"]
    assert ok["id"].startswith("batch_req_") and ok["error"] is None
    assert ok["response"]["status_code"] == 200 and ok["response"]["request_id"]
    assert ok["response"]["body"]["object"] == "chat.completion"
    assert ok["response"]["body"]["usage"]["prompt_tokens"] == 9
    assert ok["response"]["body"]["usage"]["completion_tokens"] == 5

    errors = await jsonl(client, done.error_file_id)
    assert set(errors) == {"boom", "bad"}
    assert errors["boom"]["error"] is None
    assert errors["boom"]["response"]["status_code"] == 500
    assert errors["boom"]["response"]["body"]["error"]["type"] == "server_error"
    assert errors["bad"]["response"]["status_code"] == 400
    assert errors["bad"]["response"]["body"]["error"]["param"] == "messages"
    assert (await client.files.retrieve(done.output_file_id)).purpose == "batch_output"


async def test_batch_shares_the_prompt_cache(client: openai.AsyncOpenAI) -> None:
    await chat(client, system(LONG), user("hi"))
    body_messages = [system(LONG), user("hi")]
    batch_line = json.dumps(
        {
            "custom_id": "c",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": body_messages},
        }
    )
    done = await wait_done(client, (await create_batch(client, batch_line)).id)
    assert done.usage.input_tokens_details.cached_tokens == 1152


async def test_batch_expiry_writes_expired_lines(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, batch_expire=True, batch_expire_completed=1)
    done = await wait_done(
        client, (await create_batch(client, line("a", "hi"), line("b", "hi"), line("c", "hi"))).id
    )
    assert done.status == "expired" and done.expired_at is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 2)
    assert set(await jsonl(client, done.output_file_id)) == {"a"}
    errors = await jsonl(client, done.error_file_id)
    assert errors["b"]["response"] is None
    assert errors["b"]["error"]["code"] == "batch_expired"


async def test_batch_expiry_without_error_lines(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(
        http, batch_expire=True, batch_expire_completed=1, openai_expired_in_error_file=False
    )
    done = await wait_done(
        client, (await create_batch(client, line("a", "hi"), line("b", "hi"))).id
    )
    assert done.status == "expired"
    assert done.error_file_id is None
    assert set(await jsonl(client, done.output_file_id)) == {"a"}


async def test_batch_with_invalid_input_file_fails(client: openai.AsyncOpenAI) -> None:
    done = await wait_done(
        client,
        (await create_batch(client, line("a", "hi"), "{oops", line("a", "dup"))).id,
    )
    assert done.status == "failed" and done.failed_at is not None
    codes = [(error.line, error.code) for error in done.errors.data]
    assert codes == [(2, "invalid_json_line"), (3, "duplicate_custom_id")]


async def test_batch_cancel(client: openai.AsyncOpenAI, http: httpx.AsyncClient) -> None:
    await configure(http, batch_delay_s=30)
    created = await create_batch(client, line("a", "hi"), line("b", "hi"))
    await asyncio.sleep(0.05)
    cancelling = await client.batches.cancel(created.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    done = await wait_done(client, created.id)
    assert done.status == "cancelled" and done.cancelled_at is not None
    errors = await jsonl(client, done.error_file_id)
    assert {e["error"]["code"] for e in errors.values()} == {"batch_cancelled"}
    await configure(http, batch_delay_s=0.05)
    finished = await wait_done(client, (await create_batch(client, line("x", "y"))).id)
    with pytest.raises(openai.ConflictError):
        await client.batches.cancel(finished.id)


async def test_batch_create_validation(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        await client.batches.create(
            input_file_id="file-missing", endpoint="/v1/chat/completions", completion_window="24h"
        )
    uploaded = await client.files.create(
        file=("b.jsonl", line("a", "b").encode(), "application/jsonl"), purpose="batch"
    )
    with pytest.raises(openai.BadRequestError) as info:
        await client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h"
        )
    assert info.value.param == "endpoint"
    with pytest.raises(openai.NotFoundError):
        await client.batches.retrieve("batch_missing")


async def test_batch_list_newest_first(client: openai.AsyncOpenAI, http: httpx.AsyncClient) -> None:
    await configure(http, batch_delay_s=30)
    ids = [(await create_batch(client, line("a", "hi"))).id for _ in range(3)]
    assert [b.id async for b in client.batches.list(limit=2)] == ids[::-1]
    page = await client.batches.list(limit=2)
    assert page.has_more is True
    assert (await http.get("/_emulator/stats")).json()["batches_created"] == {"openai": 3}
