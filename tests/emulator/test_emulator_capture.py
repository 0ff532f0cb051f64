"""The opt-in request capture (``/_emulator/requests``): every body, batch input files too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest

from frugalflow.emulator import EmulatorServer

API_KEY = "sk-capture-test-key-never-recorded"


@pytest.fixture
async def sdks(
    emulator: EmulatorServer,
) -> AsyncIterator[tuple[anthropic.AsyncAnthropic, openai.AsyncOpenAI]]:
    a = anthropic.AsyncAnthropic(api_key=API_KEY, base_url=emulator.anthropic_base_url)
    o = openai.AsyncOpenAI(api_key=API_KEY, base_url=emulator.openai_base_url)
    yield a, o
    await a.close()
    await o.close()


async def captured(http: httpx.AsyncClient) -> dict:
    response = await http.get("/_emulator/requests")
    assert response.status_code == 200
    body: dict = response.json()
    return body


async def test_capture_is_off_until_enabled_and_keeps_every_body_in_full(
    http: httpx.AsyncClient, sdks: tuple[anthropic.AsyncAnthropic, openai.AsyncOpenAI]
) -> None:
    claude, gpt = sdks
    long_text = "word " * 5000  # far beyond the stats log's preview of anything
    await claude.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "before"}]
    )
    assert (await captured(http))["requests"] == []

    assert (await http.put("/_emulator/requests", json={"enabled": True})).status_code == 200
    await claude.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": long_text}]
    )
    await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "second"}]
    )
    body = await captured(http)
    assert body["enabled"] is True and body["dropped"] == 0
    assert [r["endpoint"] for r in body["requests"]] == [
        "POST /v1/messages",
        "POST /v1/chat/completions",
    ]
    assert body["requests"][0]["body"]["messages"][0]["content"] == long_text
    assert API_KEY not in json.dumps(body)  # headers are never recorded

    await http.put("/_emulator/requests", json={"enabled": False})
    await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "after"}]
    )
    assert len((await captured(http))["requests"]) == 2  # kept, not extended


async def test_openai_batch_entries_carry_their_input_file(
    http: httpx.AsyncClient, sdks: tuple[anthropic.AsyncAnthropic, openai.AsyncOpenAI]
) -> None:
    _, gpt = sdks
    await http.put("/_emulator/requests", json={"enabled": True})
    line = {
        "custom_id": "c1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "in a file"}]},
    }
    uploaded = await gpt.files.create(
        file=("in.jsonl", json.dumps(line).encode() + b"\n", "application/jsonl"), purpose="batch"
    )
    await gpt.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    entries = (await captured(http))["requests"]
    create = next(e for e in entries if e["endpoint"] == "POST /v1/batches")
    assert json.loads(create["input_file"]) == line


async def test_limit_bounds_the_capture_and_counts_what_was_dropped(
    http: httpx.AsyncClient, sdks: tuple[anthropic.AsyncAnthropic, openai.AsyncOpenAI]
) -> None:
    _, gpt = sdks
    await http.put("/_emulator/requests", json={"enabled": True, "limit": 1})
    for text in ("one", "two", "three"):
        await gpt.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
        )
    body = await captured(http)
    assert (len(body["requests"]), body["dropped"]) == (1, 2)
    # Enabling again starts a fresh capture.
    await http.put("/_emulator/requests", json={"enabled": True})
    assert (await captured(http))["requests"] == []


@pytest.mark.parametrize(
    "payload", [{}, {"enabled": "maybe"}, {"enabled": True, "limit": 0}, {"on": True}, [1]]
)
async def test_invalid_capture_settings_are_refused(
    http: httpx.AsyncClient, payload: object
) -> None:
    response = await http.put("/_emulator/requests", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
