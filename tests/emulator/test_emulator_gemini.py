"""The emulator's Gemini endpoints over raw HTTP: wire shapes, tokens, caching, faults, batches.

Token rule (shared with the other providers): ceil(chars/4) per part, +4 per content (the
system instruction counts as one), +3 per request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from frugalflow.emulator.answers import natural_length
from frugalflow.emulator.gemini_api import GENERATE_ENDPOINT
from tests.emulator.support import configure, stats

MODEL = "gemini-test"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
BATCH_CREATE = f"/v1beta/models/{MODEL}:batchGenerateContent"


def body(text: str = "hello", *, system: str | None = None, **config: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if system is not None:
        out["systemInstruction"] = {"parts": [{"text": system}]}
    if config:
        out["generationConfig"] = config
    return out


async def test_generate_content_shape_and_exact_tokens(http: httpx.AsyncClient) -> None:
    response = await http.post(GENERATE, json=body(system="abcd", maxOutputTokens=100))
    assert response.status_code == 200, response.text
    data = response.json()
    output = natural_length(MODEL, "hello")
    candidate = data["candidates"][0]
    assert candidate["content"]["role"] == "model"
    assert len(candidate["content"]["parts"][0]["text"]) == 4 * output
    assert candidate["finishReason"] == "STOP"
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == 3 + (4 + 1) + (4 + 2)
    assert usage["candidatesTokenCount"] == output
    assert usage["totalTokenCount"] == 14 + output
    assert "cachedContentTokenCount" not in usage and "thoughtsTokenCount" not in usage


async def test_max_output_tokens_truncates(http: httpx.AsyncClient) -> None:
    data = (await http.post(GENERATE, json=body(maxOutputTokens=3))).json()
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["usageMetadata"]["candidatesTokenCount"] == 3


async def test_thinking_budget_reports_thoughts(http: httpx.AsyncClient) -> None:
    data = (await http.post(GENERATE, json=body(thinkingConfig={"thinkingBudget": 5}))).json()
    usage = data["usageMetadata"]
    assert usage["thoughtsTokenCount"] == 5
    assert usage["totalTokenCount"] == 9 + usage["candidatesTokenCount"] + 5


async def test_implicit_cache_reads_a_repeated_prefix(http: httpx.AsyncClient) -> None:
    system = "s" * 8000  # 2000 tokens; the shared prefix is 3 + 4 + 2000 + 4 = 2011 tokens
    first = (await http.post(GENERATE, json=body("first question", system=system))).json()
    assert "cachedContentTokenCount" not in first["usageMetadata"]
    second = (await http.post(GENERATE, json=body("second question", system=system))).json()
    usage = second["usageMetadata"]
    # Cached at the largest 1024 + k*128 boundary inside the shared prefix.
    assert usage["cachedContentTokenCount"] == 1920
    assert usage["promptTokenCount"] == 2011 + 4  # includes the cached tokens
    assert usage["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": 1920}]
    assert (await stats(http))["cache"]["gemini_cached_tokens"] == 1920


async def test_short_prompts_are_not_cached(http: httpx.AsyncClient) -> None:
    system = "s" * 3000  # 750 tokens: under the 1,024 minimum
    for _ in range(2):
        data = (await http.post(GENERATE, json=body(system=system))).json()
    assert "cachedContentTokenCount" not in data["usageMetadata"]


async def test_invalid_requests_use_googles_error_shape(http: httpx.AsyncClient) -> None:
    response = await http.post(GENERATE, json={"contents": []})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert "contents" in error["message"]
    bad_role = {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}
    assert (await http.post(GENERATE, json=bad_role)).json()["error"]["status"] == (
        "INVALID_ARGUMENT"
    )
    missing = await http.get("/v1beta/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"


async def test_faults_hit_gemini_when_listed(http: httpx.AsyncClient) -> None:
    only_openai = ["POST /v1/chat/completions"]
    await configure(http, fault_endpoints=only_openai, fail_next_n=1, error_statuses=[429])
    assert (await http.post(GENERATE, json=body())).status_code == 200  # not eligible
    await configure(http, fault_endpoints=[GENERATE_ENDPOINT])
    response = await http.post(GENERATE, json=body())
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.2s"}
    ]
    assert response.headers["retry-after-ms"] == "200"
    await configure(http, fail_next_n=1, error_statuses=[503])
    response = await http.post(GENERATE, json=body())
    assert response.json()["error"]["status"] == "UNAVAILABLE"


# --- batches ---------------------------------------------------------------------------


def batch_body(keys: list[str], name: str = "marker-1") -> dict[str, Any]:
    return {
        "batch": {
            "displayName": name,
            "inputConfig": {
                "requests": {
                    "requests": [
                        {"request": body(f"question {key}"), "metadata": {"key": key}}
                        for key in keys
                    ]
                }
            },
        }
    }


async def wait_done(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    for _ in range(100):
        operation: dict[str, Any] = (await http.get(f"/v1beta/{name}")).json()
        if operation.get("done"):
            return operation
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} did not finish")


async def test_batch_lifecycle(http: httpx.AsyncClient) -> None:
    created = await http.post(BATCH_CREATE, json=batch_body(["a", "b"]))
    assert created.status_code == 200, created.text
    operation = created.json()
    name = operation["name"]
    assert name.startswith("batches/") and not operation.get("done")
    assert operation["metadata"]["state"] in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
    assert operation["metadata"]["displayName"] == "marker-1"
    assert operation["metadata"]["model"] == f"models/{MODEL}"

    done = await wait_done(http, name)
    metadata = done["metadata"]
    assert metadata["state"] == "BATCH_STATE_SUCCEEDED"
    assert metadata["batchStats"]["successfulRequestCount"] == "2"
    lines = metadata["output"]["inlinedResponses"]["inlinedResponses"]
    assert [line["metadata"]["key"] for line in lines] == ["a", "b"]
    usage = lines[0]["response"]["usageMetadata"]
    assert usage["promptTokenCount"] == 3 + 4 + 3  # "question a" is 10 chars
    assert done["response"]["inlinedResponses"] == metadata["output"]["inlinedResponses"]
    assert (await stats(http))["batches_created"]["gemini"] == 1


async def test_batch_line_errors_and_expiry(http: httpx.AsyncClient) -> None:
    await configure(http, batch_error_custom_ids=["b"])
    done = await wait_done(
        http, (await http.post(BATCH_CREATE, json=batch_body(["a", "b"]))).json()["name"]
    )
    lines = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
    assert "response" in lines[0]
    assert lines[1]["error"]["code"] == 13 and lines[1]["metadata"] == {"key": "b"}
    assert done["metadata"]["batchStats"]["failedRequestCount"] == "1"

    await configure(http, batch_error_custom_ids=[], batch_expire=True)
    expired = await wait_done(
        http, (await http.post(BATCH_CREATE, json=batch_body(["c"]))).json()["name"]
    )
    assert expired["metadata"]["state"] == "BATCH_STATE_EXPIRED"
    assert "output" not in expired["metadata"]


async def test_batch_cancel_list_and_not_found(http: httpx.AsyncClient) -> None:
    await configure(http, batch_delay_s=30)
    first = (await http.post(BATCH_CREATE, json=batch_body(["a"], "one"))).json()["name"]
    second = (await http.post(BATCH_CREATE, json=batch_body(["a"], "two"))).json()["name"]
    assert (await http.post(f"/v1beta/{first}:cancel")).json() == {}
    assert (await wait_done(http, first))["metadata"]["state"] == "BATCH_STATE_CANCELLED"

    page = (await http.get("/v1beta/batches", params={"pageSize": 1})).json()
    assert [op["name"] for op in page["operations"]] == [second]  # newest first
    rest = (await http.get("/v1beta/batches", params={"pageToken": page["nextPageToken"]})).json()
    assert [op["name"] for op in rest["operations"]] == [first]
    assert "nextPageToken" not in rest

    missing = await http.get("/v1beta/batches/nope")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    empty = await http.post(BATCH_CREATE, json={"batch": {"displayName": "x"}})
    assert empty.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_reset_drops_gemini_batches(http: httpx.AsyncClient) -> None:
    await http.post(BATCH_CREATE, json=batch_body(["a"]))
    assert (await http.get("/v1beta/batches")).json()["operations"]
    await http.post("/_emulator/reset")
    assert (await http.get("/v1beta/batches")).json()["operations"] == []


def test_gemini_generation_is_fault_eligible_by_default() -> None:
    from frugalflow.emulator.config import EmulatorConfig

    assert GENERATE_ENDPOINT in EmulatorConfig().fault_endpoints
