"""OpenAI Chat Completions: ``POST /v1/chat/completions`` (non-streaming, one choice).

``validate_params`` and ``create_completion`` are shared with the batch processor.
Caching is automatic (see ``prompt_cache``); ``prompt_tokens`` includes cached tokens,
reported in ``prompt_tokens_details.cached_tokens``. ``n`` > 1 is rejected.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from frugalflow.emulator.answers import synthesize
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError, bad_request, new_request_id
from frugalflow.emulator.flex import admit_flex
from frugalflow.emulator.state import STATE_KEY, EmulatorState
from frugalflow.emulator.tokens import (
    Segment,
    block_segment,
    block_text,
    message_segment,
    request_segment,
)

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
EXTENDED_RETENTION_S = 24 * 3600.0


def _missing(param: str) -> ApiError:
    return bad_request(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if content is None:
        return []  # e.g. an assistant turn that only carried tool_calls
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(
        isinstance(p, dict) and isinstance(p.get("type"), str) for p in content
    ):
        raise bad_request(f"Invalid type for '{where}'.", param=where, code="invalid_type")
    return list(content)


def validate_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check a chat request; returns it with message contents normalized to parts."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _missing("model")
    messages = body.get("messages")
    if messages is None:
        raise _missing("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    if body.get("stream"):
        raise bad_request("stream is not supported by the emulator", param="stream")
    if body.get("n") not in (None, 1):
        raise bad_request("n > 1 is not supported by the emulator", param="n")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise bad_request(
            "Invalid 'max_completion_tokens': expected an integer >= 1.",
            param="max_completion_tokens",
            code="invalid_value",
        )
    tier = body.get("service_tier")
    if tier is not None and tier not in SERVICE_TIERS:
        raise bad_request(
            f"Invalid value for 'service_tier': expected one of {', '.join(SERVICE_TIERS)}.",
            param="service_tier",
            code="invalid_value",
        )
    normalized = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_request(
                f"Invalid value for 'messages[{index}].role'.",
                param=f"messages[{index}].role",
                code="invalid_value",
            )
        parts = _parts(message.get("content"), f"messages[{index}].content")
        normalized.append({"role": message["role"], "content": parts})
    return {**body, "model": model, "messages": normalized, "_max_tokens": limit}


BILLED_TIERS = ("flex", "priority")
SERVICE_TIERS = ("auto", "default", "flex", "priority", "scale")


def segments_of(params: Mapping[str, Any]) -> list[Segment]:
    segments = [request_segment()]
    for message in params["messages"]:
        segments.append(message_segment(message["role"]))
        segments.extend(block_segment(part) for part in message["content"])
    return segments


def last_user_text(params: Mapping[str, Any]) -> str:
    for message in reversed(params["messages"]):
        if message["role"] == "user":
            return "".join(block_text(p) for p in message["content"])
    return ""


def create_completion(state: EmulatorState, params: Mapping[str, Any]) -> dict[str, Any]:
    """A ChatCompletion object for validated ``params`` (updates the prompt cache)."""
    config = state.config
    model = params["model"]
    segments = segments_of(params)
    prompt_tokens = sum(s.tokens for s in segments)
    ttl_s = config.cache_ttl_override_s or (
        EXTENDED_RETENTION_S
        if params.get("prompt_cache_retention") == "24h"
        else config.openai_cache_ttl_s
    )
    cached = state.openai_cache.account(
        model,
        segments,
        cache_key=params.get("prompt_cache_key"),
        min_tokens=config.openai_cache_min_tokens,
        increment=config.openai_cache_increment_tokens,
        ttl_s=ttl_s,
    )
    state.stats.cache["openai_cached_tokens"] += cached
    max_tokens = params.get("_max_tokens") or config.openai_default_max_tokens
    answer = synthesize(
        model, last_user_text(params), max_tokens, answer_tokens=config.answer_tokens
    )
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if answer.truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": answer.output_tokens,
            "total_tokens": prompt_tokens + answer.output_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        # The tier that served (and bills) the call: the one asked for, as OpenAI answers.
        "service_tier": params.get("service_tier")
        if params.get("service_tier") in BILLED_TIERS
        else "default",
        "system_fingerprint": "fp_emulator",
    }


async def handle_chat_completion(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = validate_params(await read_json_object(request))
    if params.get("service_tier") == "flex":
        await admit_flex(state)
    return web.json_response(
        create_completion(state, params), headers={"x-request-id": new_request_id("openai")}
    )


def routes() -> list[web.RouteDef]:
    return [web.post("/v1/chat/completions", handle_chat_completion)]
