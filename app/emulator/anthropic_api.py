"""Anthropic Messages API: ``POST /v1/messages`` (non-streaming).

``validate_params`` and ``create_message`` are shared with the batch processor so a
batched request is answered (and cached) exactly like an immediate one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from frugalflow.emulator.answers import synthesize
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import bad_request, new_request_id
from frugalflow.emulator.state import STATE_KEY, EmulatorState
from frugalflow.emulator.tokens import (
    Segment,
    block_segment,
    block_text,
    message_segment,
    request_segment,
)

MAX_CACHE_BREAKPOINTS = 4
ROLES = frozenset({"user", "assistant", "system"})
LEGACY_API_VERSION = "2023-06-01"
# From this ``anthropic-version`` on (sent by SDK 2.x) sampling parameters are rejected.
NO_SAMPLING_API_VERSION = "2026-10-21"
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")


def api_version(request: web.Request) -> str:
    return request.headers.get("anthropic-version", LEGACY_API_VERSION)


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    """Normalize string-or-blocks content into a list of block dicts (validated)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise bad_request(f"{where}: Input should be a valid string or list of content blocks")
    for index, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise bad_request(f"{where}.{index}: each content block needs a string 'type'")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise bad_request(f"{where}.{index}.text: Field required")
        _check_cache_control(block.get("cache_control"), f"{where}.{index}.cache_control")
    return list(content)


def _check_cache_control(value: Any, where: str) -> None:
    if value is not None and (
        not isinstance(value, dict)
        or value.get("type") != "ephemeral"
        or value.get("ttl", "5m") not in ("5m", "1h")
    ):
        raise bad_request(f"{where}: expected {{'type': 'ephemeral', 'ttl'?: '5m' | '1h'}}")


def validate_params(
    body: Mapping[str, Any], version: str = NO_SAMPLING_API_VERSION
) -> dict[str, Any]:
    """Check a Messages request; returns it with ``system``/contents normalized to blocks.

    A top-level ``cache_control`` is moved onto the last block of the last message.
    """
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("model: Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise bad_request("max_tokens: Field required")
    if max_tokens < 1:
        raise bad_request("max_tokens: Input should be greater than or equal to 1")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise bad_request("messages: Field required")
    if not messages:
        raise bad_request("messages: at least one message is required")
    if body.get("stream"):
        raise bad_request("stream: streaming is not supported by the emulator")
    if version >= NO_SAMPLING_API_VERSION:
        for name in SAMPLING_PARAMS:
            if name in body:
                raise bad_request(f"{name}: Extra inputs are not permitted")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0.0 <= temperature <= 1.0
    ):
        raise bad_request("temperature: Input should be between 0 and 1")

    normalized_messages = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_request(
                f"messages.{index}.role: Input should be 'user', 'assistant' or 'system'"
            )
        content = _blocks(message.get("content"), f"messages.{index}.content")
        if message["role"] == "system" and any(b.get("type") != "text" for b in content):
            raise bad_request(f"messages.{index}.content: system messages take text blocks only")
        normalized_messages.append({"role": message["role"], "content": content})
    top_level_cache = body.get("cache_control")
    if top_level_cache is not None:
        _check_cache_control(top_level_cache, "cache_control")
        last = normalized_messages[-1]["content"]
        if last:
            last[-1] = {**last[-1], "cache_control": top_level_cache}
    system = body.get("system")
    system_blocks = None if system is None else _blocks(system, "system")
    if system_blocks is not None and any(b.get("type") != "text" for b in system_blocks):
        raise bad_request("system: only text blocks are allowed")

    all_blocks = [*(system_blocks or []), *(b for m in normalized_messages for b in m["content"])]
    breakpoints = sum(1 for b in all_blocks if b.get("cache_control") is not None)
    if breakpoints > MAX_CACHE_BREAKPOINTS:
        raise bad_request(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints}."
        )
    return {
        **body,
        "model": model,
        "max_tokens": max_tokens,
        "messages": normalized_messages,
        "system": system_blocks,
    }


def segments_of(params: Mapping[str, Any]) -> list[Segment]:
    """Prompt in cache order: request overhead, system, then messages."""
    segments = [request_segment()]
    if params["system"] is not None:
        segments.append(message_segment("system"))
        segments.extend(block_segment(b) for b in params["system"])
    for message in params["messages"]:
        segments.append(message_segment(message["role"]))
        segments.extend(block_segment(b) for b in message["content"])
    return segments


def last_user_text(params: Mapping[str, Any]) -> str:
    for message in reversed(params["messages"]):
        if message["role"] == "user":
            return "".join(block_text(b) for b in message["content"])
    return ""


def create_message(
    state: EmulatorState, params: Mapping[str, Any], *, service_tier: str = "standard"
) -> dict[str, Any]:
    """A Message object for validated ``params`` (updates the prompt cache)."""
    model = params["model"]
    config = state.config
    cache = state.anthropic_cache.account(
        model,
        segments_of(params),
        min_tokens=config.anthropic_min_tokens_for(model),
        ttl_override_s=config.cache_ttl_override_s,
    )
    state.stats.cache["anthropic_cache_read_tokens"] += cache.cache_read_tokens
    state.stats.cache["anthropic_cache_write_tokens"] += cache.cache_write_tokens
    answer = synthesize(
        model, last_user_text(params), params["max_tokens"], answer_tokens=config.answer_tokens
    )
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": answer.text}],
        "stop_reason": "max_tokens" if answer.truncated else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": cache.input_tokens,
            "cache_creation_input_tokens": cache.cache_write_tokens,
            "cache_read_input_tokens": cache.cache_read_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": cache.write_by_ttl.get("5m", 0),
                "ephemeral_1h_input_tokens": cache.write_by_ttl.get("1h", 0),
            },
            "output_tokens": answer.output_tokens,
            "service_tier": service_tier,
        },
    }


async def handle_create_message(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = validate_params(await read_json_object(request), api_version(request))
    return web.json_response(
        create_message(state, params), headers={"request-id": new_request_id("anthropic")}
    )


def routes() -> list[web.RouteDef]:
    return [web.post("/v1/messages", handle_create_message)]
