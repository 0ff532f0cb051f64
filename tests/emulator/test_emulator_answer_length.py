"""The ``answer_tokens`` knob: answers of a chosen length on every provider and path.

As the real APIs do, the request's output cap always wins: the answer never exceeds it,
and a cut answer carries the provider's max-tokens reason (Anthropic ``max_tokens``,
OpenAI ``length``, Gemini ``MAX_TOKENS``); an answer that ends exactly at the cap is a
natural stop. The usage always matches the text (``ceil(len/4)`` tokens, see
``app/emulator/tokens.py``). Anthropic and OpenAI go through their official SDKs; Gemini
through its REST API with httpx, as ``frugalflow.providers.gemini_adapter`` calls it (the project
has no Gemini SDK).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from frugalflow.emulator import EmulatorConfig, EmulatorServer
from frugalflow.emulator.tokens import text_tokens
from tests.emulator.support import configure

API_KEY = "sk-answer-length-test-key"
CLAUDE, GPT, GEMINI = "claude-test", "gpt-test", "gemini-test"
ANSWER = 500
PROMPT = "Summarise the document, please."
PROMPT_TOKENS = 3 + 4 + text_tokens(PROMPT)  # request + one user message


@pytest.fixture
async def claude(emulator: EmulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    sdk = anthropic.AsyncAnthropic(
        api_key=API_KEY, base_url=emulator.anthropic_base_url, max_retries=0, timeout=10.0
    )
    yield sdk
    await sdk.close()


@pytest.fixture
async def gpt(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(
        api_key=API_KEY, base_url=emulator.openai_base_url, max_retries=0, timeout=10.0
    )
    yield sdk
    await sdk.close()


def consistent(text: str, output_tokens: int) -> bool:
    """The text is exactly ``output_tokens`` long under the emulator's tokenizer rule."""
    return len(text) == 4 * output_tokens and text_tokens(text) == output_tokens


# --- the knob ------------------------------------------------------------------------------


async def test_knob_defaults_to_the_natural_rule_and_is_validated(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/_emulator/config")).json()["answer_tokens"] is None
    assert (await configure(http, answer_tokens=ANSWER))["answer_tokens"] == ANSWER
    for bad in (0, -5, 65_537, "long", 2.5):
        response = await http.put("/_emulator/config", json={"answer_tokens": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert (await http.get("/_emulator/config")).json()["answer_tokens"] == ANSWER
    assert (await configure(http, answer_tokens=None))["answer_tokens"] is None
    await configure(http, answer_tokens=ANSWER)
    await http.post("/_emulator/reset")
    assert (await http.get("/_emulator/config")).json()["answer_tokens"] is None


def test_knob_from_the_environment() -> None:
    variable = "FRUGALFLOW_EMULATOR_ANSWER_TOKENS"
    assert EmulatorConfig.from_env({variable: "500"}).answer_tokens == 500
    assert EmulatorConfig.from_env({variable: "null"}).answer_tokens is None


# --- Anthropic -----------------------------------------------------------------------------


async def ask_claude(client: anthropic.AsyncAnthropic, max_tokens: int) -> Any:
    return await client.messages.create(
        model=CLAUDE, max_tokens=max_tokens, messages=[{"role": "user", "content": PROMPT}]
    )


async def test_anthropic_answers_at_length_and_cuts_at_max_tokens(
    claude: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    natural = await ask_claude(claude, 4096)
    assert natural.usage.output_tokens < 60  # the documented default rule
    await configure(http, answer_tokens=ANSWER)

    full = await ask_claude(claude, 4096)
    assert full.stop_reason == "end_turn"
    assert full.usage.output_tokens == ANSWER
    assert full.usage.input_tokens == PROMPT_TOKENS
    assert consistent(full.content[0].text, ANSWER)  # type: ignore[union-attr]

    exact = await ask_claude(claude, ANSWER)  # ends at the cap, not cut by it
    assert (exact.stop_reason, exact.usage.output_tokens) == ("end_turn", ANSWER)

    cut = await ask_claude(claude, 120)
    assert cut.stop_reason == "max_tokens"
    assert cut.usage.output_tokens == 120
    text = cut.content[0].text  # type: ignore[union-attr]
    assert consistent(text, 120)
    assert full.content[0].text.startswith(text)  # type: ignore[union-attr]


async def test_anthropic_batch_answers_at_length(
    claude: anthropic.AsyncAnthropic, http: httpx.AsyncClient
) -> None:
    await configure(http, answer_tokens=ANSWER)

    def entry(custom_id: str, max_tokens: int) -> Any:
        params = {"model": CLAUDE, "max_tokens": max_tokens}
        return {
            "custom_id": custom_id,
            "params": {**params, "messages": [{"role": "user", "content": PROMPT}]},
        }

    created = await claude.messages.batches.create(
        requests=[entry("full", 1000), entry("cut", 200)]
    )
    for _ in range(100):
        if (await claude.messages.batches.retrieve(created.id)).processing_status == "ended":
            break
        await asyncio.sleep(0.05)
    results = {
        line.custom_id: line.result.message  # type: ignore[union-attr]
        async for line in await claude.messages.batches.results(created.id)
    }
    full, cut = results["full"], results["cut"]
    assert (full.stop_reason, full.usage.output_tokens) == ("end_turn", ANSWER)
    assert (cut.stop_reason, cut.usage.output_tokens) == ("max_tokens", 200)
    assert full.usage.service_tier == "batch"
    assert consistent(full.content[0].text, ANSWER)
    assert consistent(cut.content[0].text, 200)


# --- OpenAI --------------------------------------------------------------------------------


async def test_openai_answers_at_length_and_cuts_at_the_limit(
    gpt: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, answer_tokens=ANSWER)
    messages: Any = [{"role": "user", "content": PROMPT}]

    full = await gpt.chat.completions.create(model=GPT, messages=messages)  # no limit given
    assert full.choices[0].finish_reason == "stop"
    usage = full.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (PROMPT_TOKENS, ANSWER)
    assert usage.total_tokens == PROMPT_TOKENS + ANSWER
    assert consistent(full.choices[0].message.content or "", ANSWER)

    for limit in ({"max_completion_tokens": 64}, {"max_tokens": 64}):  # new and legacy names
        cut = await gpt.chat.completions.create(model=GPT, messages=messages, **limit)
        assert cut.choices[0].finish_reason == "length"
        assert cut.usage is not None and cut.usage.completion_tokens == 64
        assert consistent(cut.choices[0].message.content or "", 64)


async def test_openai_batch_answers_at_length(
    gpt: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    await configure(http, answer_tokens=ANSWER)

    def line(custom_id: str, **limit: int) -> str:
        body = {"model": GPT, "messages": [{"role": "user", "content": PROMPT}], **limit}
        return json.dumps(
            {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
        )

    data = line("full", max_completion_tokens=2000) + "\n" + line("cut", max_tokens=50) + "\n"
    uploaded = await gpt.files.create(
        file=("batch.jsonl", data.encode(), "application/jsonl"), purpose="batch"
    )
    created = await gpt.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    for _ in range(100):
        batch = await gpt.batches.retrieve(created.id)
        if batch.status == "completed":
            break
        await asyncio.sleep(0.05)
    assert batch.status == "completed" and batch.output_file_id is not None
    assert batch.usage is not None and batch.usage.output_tokens == ANSWER + 50
    text = (await gpt.files.content(batch.output_file_id)).text
    bodies = {e["custom_id"]: e["response"]["body"] for e in map(json.loads, text.splitlines())}
    for custom_id, tokens, reason in (("full", ANSWER, "stop"), ("cut", 50, "length")):
        choice, usage = bodies[custom_id]["choices"][0], bodies[custom_id]["usage"]
        assert choice["finish_reason"] == reason
        assert usage["completion_tokens"] == tokens
        assert usage["total_tokens"] == usage["prompt_tokens"] + tokens
        assert consistent(choice["message"]["content"], tokens)


# --- Gemini --------------------------------------------------------------------------------


def gemini_request(max_output_tokens: int | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
    if max_output_tokens is not None:
        request["generationConfig"] = {"maxOutputTokens": max_output_tokens}
    return request


def check_gemini(response: dict[str, Any], tokens: int, reason: str) -> None:
    candidate, usage = response["candidates"][0], response["usageMetadata"]
    assert candidate["finishReason"] == reason
    assert usage["candidatesTokenCount"] == tokens
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + tokens
    assert consistent(candidate["content"]["parts"][0]["text"], tokens)


async def test_gemini_answers_at_length_and_cuts_at_max_output_tokens(
    http: httpx.AsyncClient,
) -> None:
    await configure(http, answer_tokens=ANSWER)
    route = f"/v1beta/models/{GEMINI}:generateContent"
    full = (await http.post(route, json=gemini_request())).json()
    check_gemini(full, ANSWER, "STOP")
    assert full["usageMetadata"]["promptTokenCount"] == PROMPT_TOKENS
    check_gemini((await http.post(route, json=gemini_request(ANSWER))).json(), ANSWER, "STOP")
    check_gemini((await http.post(route, json=gemini_request(77))).json(), 77, "MAX_TOKENS")


async def test_gemini_batch_answers_at_length(http: httpx.AsyncClient) -> None:
    await configure(http, answer_tokens=ANSWER)
    entries = [
        {"request": gemini_request(1000), "metadata": {"key": "full"}},
        {"request": gemini_request(30), "metadata": {"key": "cut"}},
    ]
    body = {"batch": {"displayName": "length", "inputConfig": {"requests": {"requests": entries}}}}
    created = await http.post(f"/v1beta/models/{GEMINI}:batchGenerateContent", json=body)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    for _ in range(100):
        operation = (await http.get(f"/v1beta/{name}")).json()
        if operation.get("done"):
            break
        await asyncio.sleep(0.05)
    assert operation["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    lines = operation["response"]["inlinedResponses"]["inlinedResponses"]
    by_key = {line["metadata"]["key"]: line["response"] for line in lines}
    check_gemini(by_key["full"], ANSWER, "STOP")
    check_gemini(by_key["cut"], 30, "MAX_TOKENS")
