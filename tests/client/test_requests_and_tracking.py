"""The client's checks before anything is published, and ``track_cost``'s pricing.

No services needed: requests are checked with intake's own validation (the reason codes
an upstream developer would otherwise find on ``llm.dead-letter``), and direct SDK
responses — real ``anthropic`` / ``openai`` SDK objects — are priced by the calculator.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from frugalflow.client import (
    ClientConfig,
    ClientError,
    ClientNotStarted,
    FrugalFlowClient,
    InvalidRequest,
    TrackingError,
)
from frugalflow.client.requests import build_request, encode_checked
from frugalflow.client.sdk_usage import read_response
from frugalflow.client.track import CostTracker, cost_event
from frugalflow.costing.calculator import cost_and_savings
from frugalflow.events import Path
from frugalflow.intake.validate import Reason

MARKER = {"frugalflow_client": "svc", "frugalflow_instance": "svc-1"}


def checked(messages: Any = "Hello?", tenant: str = "acme", **options: Any) -> Any:
    options.setdefault("max_tokens", 64)
    body = build_request(messages, tenant_id=tenant, request_id="r-1", marker=MARKER,
                         options=options)  # fmt: skip
    return encode_checked(body, topic="llm.requests", max_value_bytes=4096)


@pytest.mark.parametrize(
    ("kwargs", "reason", "field"),
    [
        ({"max_tokens": 0}, Reason.INVALID_FIELD, "max_tokens"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, Reason.INVALID_FIELD, "value"),
        ({"messages": []}, Reason.INVALID_FIELD, "messages"),
        ({"messages": [{"role": "user"}]}, Reason.MISSING_FIELD, "messages.0.content"),
        ({"tenant": ""}, Reason.INVALID_FIELD, "tenant_id"),
        ({"priority": "urgent"}, Reason.INVALID_FIELD, "priority"),
        ({"temperature": 3}, Reason.INVALID_FIELD, "temperature"),
        ({"messages": "x" * 5000}, Reason.VALUE_TOO_LARGE, "bytes"),
        ({"metadata": {"when": object()}}, Reason.INVALID_JSON, "JSON"),
    ],
)
def test_a_bad_request_fails_before_publishing_with_intakes_reason(
    kwargs: dict[str, Any], reason: Reason, field: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        checked(**kwargs)
    assert caught.value.reason == caught.value.code == reason.value
    assert field in caught.value.detail
    assert caught.value.request_id == "r-1"


async def test_a_client_that_is_not_started_says_so() -> None:
    client = FrugalFlowClient(ClientConfig(client_id="svc"))
    with pytest.raises(ClientNotStarted) as caught:
        await client.complete("Hello?", tenant_id="acme")
    assert caught.value.code == "client_not_started"
    with pytest.raises(ClientError, match="not published by this client"):
        await client.answer("r-unknown")
    with pytest.raises(ValueError, match="client_id"):
        ClientConfig(client_id="")


def test_a_good_request_is_keyed_by_tenant_and_carries_the_marker() -> None:
    key, value, request = checked(
        [{"role": "user", "content": "Hi"}], system="Be brief.", metadata={"ticket": 7}
    )
    assert key == b"acme"
    assert request.metadata == {"ticket": 7, **MARKER}
    assert request.system == "Be brief." and request.max_tokens == 64
    assert b'"event_type":"NEW_RECORD"' in value.replace(b" ", b"")


ANTHROPIC = {
    "id": "msg_01ABC", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
    "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1000, "output_tokens": 500, "cache_creation_input_tokens": 2000,
              "cache_read_input_tokens": 3000},
}  # fmt: skip
OPENAI_FLEX = {
    "id": "chatcmpl-XYZ", "object": "chat.completion", "created": 1764800000,
    "model": "gpt-5.4-mini-2026-03-17", "service_tier": "flex",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
              "prompt_tokens_details": {"cached_tokens": 400}},
}  # fmt: skip


def test_direct_calls_are_priced_like_the_stream_prices_them() -> None:
    message = Message.model_validate(ANTHROPIC)
    event = cost_event(read_response(message), tenant_id="acme", service="s", use_case=None)
    assert event.path == Path.DIRECT and event.provider == "anthropic"
    assert event.model == "claude-haiku-4-5-20251001"
    assert event.input_tokens == 1000 and event.cache_write_tokens == 2000
    assert event.cache_read_tokens == 3000
    # 1000 x $1 + 2000 x $1.25 + 3000 x $0.10 + 500 x $5 per million; baseline: no caching
    assert event.cost_usd == Decimal("0.0063")
    assert event.baseline_cost_usd == Decimal("0.0085")
    assert event.savings_usd.prompt_cache == Decimal("0.0022")
    assert event.savings_usd.routing == 0 and event.success
    again = cost_event(read_response(message), tenant_id="acme", service="s", use_case=None)
    assert again.event_id == event.event_id  # the same response is booked once
    other = cost_event(read_response(message), tenant_id="globex", service="s", use_case=None)
    assert other.event_id != event.event_id

    completion = ChatCompletion.model_validate(OPENAI_FLEX)
    call = read_response(completion)
    assert (call.provider, call.mode, call.call_id) == ("openai", "flex", "chatcmpl-XYZ")
    flex = cost_event(call, tenant_id="acme", service=None, use_case="faq")
    # 600 x $0.375 + 400 x $0.0375 + 200 x $2.25 (flex); baseline 1000 x $0.75 + 200 x $4.50
    assert (flex.cost_usd, flex.baseline_cost_usd) == (Decimal("0.00069"), Decimal("0.00165"))
    expected = cost_and_savings(call.usage, model=call.model, requested_model=call.model,
                                mode="flex")  # fmt: skip
    assert (flex.cost_usd, flex.baseline_cost_usd, flex.savings_usd) == expected

    gemini = {"modelVersion": "gemini-2.5-flash-lite", "responseId": "g-1",
              "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10}}  # fmt: skip
    assert read_response(gemini).usage.input_tokens == 100
    # google-genai's response object: the same fields, snake_case
    sdk_object = SimpleNamespace(
        model_version="gemini-2.5-flash-lite", response_id="g-2", service_tier=None,
        usage_metadata=SimpleNamespace(prompt_token_count=100, cached_content_token_count=40,
                                       candidates_token_count=10, thoughts_token_count=5),
    )  # fmt: skip
    call = read_response(sdk_object)
    assert (call.provider, call.model, call.call_id) == ("gemini", "gemini-2.5-flash-lite", "g-2")
    assert (call.usage.input_tokens, call.usage.cache_read_tokens) == (60, 40)
    assert call.usage.output_tokens == 15  # thoughts bill as output

    responses_api = SimpleNamespace(
        object="response", id="resp_1", model="gpt-5.4-mini", service_tier="default",
        usage={"input_tokens": 1000, "output_tokens": 200,
               "input_tokens_details": {"cached_tokens": 400}},
    )  # fmt: skip
    call = read_response(responses_api)
    assert (call.provider, call.mode, call.call_id) == ("openai", "standard", "resp_1")
    assert (call.usage.input_tokens, call.usage.cache_read_tokens) == (600, 400)


def test_what_cannot_be_priced_is_an_error_or_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    unknown = Message.model_validate({**ANTHROPIC, "model": "claude-imaginary-9"})
    with pytest.raises(TrackingError) as caught:
        cost_event(read_response(unknown), tenant_id="acme", service=None, use_case=None)
    assert caught.value.code == "unknown_model"
    with pytest.raises(TrackingError) as odd:
        read_response({"text": "not an SDK response"})
    assert odd.value.code == "unsupported_response"

    lenient = CostTracker(None, tenant_id="acme")  # type: ignore[arg-type]  # nothing is sent
    with caplog.at_level(logging.WARNING, logger="frugalflow.client"):
        assert lenient.record(unknown) is unknown  # the caller's response comes back as is
    assert "unknown_model" in caplog.text
    strict = CostTracker(None, tenant_id="acme", strict=True)  # type: ignore[arg-type]
    with pytest.raises(TrackingError):
        strict.record(unknown)
