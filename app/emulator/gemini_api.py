"""Gemini ``POST /v1beta/models/{model}:generateContent`` (non-streaming, one candidate).

Request: ``contents`` (roles ``user``/``model``, each with ``parts``), optional
``systemInstruction`` and ``generationConfig`` (``maxOutputTokens``, ``temperature``,
``thinkingConfig.thinkingBudget``). Tokens follow the shared rule in ``tokens`` (the system
instruction counts as one message, linearized like Anthropic's top-level ``system``), answers
come from ``answers.synthesize``.

Implicit caching reuses the OpenAI-style automatic prefix cache (``state.openai_cache``,
namespaced so it never crosses providers) with Gemini's minimums: 1,024 tokens, 2,048 for
Pro models. ``promptTokenCount`` *includes* the cached tokens, reported separately as
``cachedContentTokenCount`` (omitted when 0, like the real API). A positive
``thinkingBudget`` yields ``thoughtsTokenCount`` (deterministic, capped by the budget).

Errors use Google's shape ``{"error": {"code", "message", "status"}}``: handlers raise the
usual ``ApiError`` and ``google_error_middleware`` (installed outside ``api_middleware``)
rewrites every error response under ``/v1beta``, faults and unknown routes included. A
retry-after becomes a ``google.rpc.RetryInfo`` detail as well as the header.

Faults: the endpoint key is ``GENERATE_ENDPOINT``, fault-eligible by default like the other
providers' inference endpoints.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from frugalflow.emulator.answers import natural_length, synthesize
from frugalflow.emulator.anthropic_api import last_user_text, segments_of
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError
from frugalflow.emulator.flex import admit_flex
from frugalflow.emulator.state import STATE_KEY, EmulatorState

SERVICE_TIERS = ("unspecified", "standard", "flex", "priority")

PREFIX = "/v1beta"
GENERATE_ENDPOINT = "POST /v1beta/models/{model}:generateContent"
ROLES = frozenset({"user", "model"})
CACHE_MIN_TOKENS = 1024  # Gemini 2.5 Flash (and default)
CACHE_MIN_TOKENS_PRO = 2048  # Gemini 2.5 Pro
DEFAULT_MAX_OUTPUT_TOKENS = 8192
CACHE_NAMESPACE = "gemini-implicit"

STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
GOOGLE_STATUSES = frozenset(STATUS_BY_HTTP.values())
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"


def invalid_argument(message: str) -> ApiError:
    return ApiError(400, message, error_type="INVALID_ARGUMENT")


def cache_min_tokens(model: str) -> int:
    return CACHE_MIN_TOKENS_PRO if "pro" in model.lower() else CACHE_MIN_TOKENS


# --- errors in Google's shape --------------------------------------------------------------


def google_error_body(
    status: int, message: str, status_name: str | None = None, retry_delay_ms: int | None = None
) -> dict[str, Any]:
    name = status_name if status_name in GOOGLE_STATUSES else None
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": name or STATUS_BY_HTTP.get(status, "INTERNAL" if status >= 500 else "UNKNOWN"),
    }
    if retry_delay_ms is not None:
        error["details"] = [{"@type": RETRY_INFO_TYPE, "retryDelay": f"{retry_delay_ms / 1000}s"}]
    return {"error": error}


@web.middleware
async def google_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Re-render error responses under ``/v1beta`` (built by ``api_middleware``) as Google's."""
    response = await handler(request)
    if not request.path.startswith(PREFIX + "/") or response.status < 400:
        return response
    raw = response.body if isinstance(response, web.Response) else None
    if not isinstance(raw, bytes | bytearray):
        return response
    try:
        error = json.loads(raw)["error"]
        message = str(error["message"])
    except (ValueError, KeyError, TypeError):
        return response
    retry_ms = response.headers.get("retry-after-ms")
    body = google_error_body(
        response.status,
        message,
        error.get("type") if isinstance(error, dict) else None,
        int(retry_ms) if retry_ms and retry_ms.isdigit() else None,
    )
    headers = {k: v for k, v in response.headers.items() if k.lower().startswith("retry-after")}
    return web.json_response(body, status=response.status, headers=headers)


# --- requests ------------------------------------------------------------------------------


def _parts(value: Any, where: str) -> list[dict[str, Any]]:
    parts = value.get("parts") if isinstance(value, dict) else None
    if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
        raise invalid_argument(f"* GenerateContentRequest.{where}.parts: must not be empty")
    blocks = []
    for part in parts:
        if isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        else:
            blocks.append({"type": "part", **part})
    return blocks


def validate_params(model: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Check a generateContent body; returns normalized params (contents as blocks)."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid_argument("* GenerateContentRequest.contents: contents is not specified")
    messages = []
    for index, content in enumerate(contents):
        role = content.get("role", "user") if isinstance(content, dict) else None
        if role not in ROLES:
            raise invalid_argument(
                f"* GenerateContentRequest.contents[{index}].role: "
                "Please use a valid role: user, model."
            )
        messages.append({"role": role, "content": _parts(content, f"contents[{index}]")})
    system = body.get("systemInstruction", body.get("system_instruction"))
    system_blocks = _parts(system, "system_instruction") if system is not None else None
    config = body.get("generationConfig", body.get("generation_config")) or {}
    if not isinstance(config, dict):
        raise invalid_argument("* GenerateContentRequest.generation_config: must be an object")
    limit = config.get("maxOutputTokens", config.get("max_output_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise invalid_argument(
            "* GenerateContentRequest.generation_config.max_output_tokens: must be positive"
        )
    tier = body.get("serviceTier", body.get("service_tier"))
    if tier is not None and str(tier).lower() not in SERVICE_TIERS:
        raise invalid_argument(f"* GenerateContentRequest.service_tier: unknown value {tier!r}")
    thinking = config.get("thinkingConfig", config.get("thinking_config")) or {}
    budget = thinking.get("thinkingBudget", 0) if isinstance(thinking, dict) else 0
    return {
        "model": model,
        "messages": messages,
        "system": system_blocks,
        "max_tokens": limit or DEFAULT_MAX_OUTPUT_TOKENS,
        "thinking_budget": budget if isinstance(budget, int) and budget > 0 else 0,
        "service_tier": str(tier).lower() if tier is not None else None,
    }


def generate_content(state: EmulatorState, params: Mapping[str, Any]) -> dict[str, Any]:
    """A GenerateContentResponse for validated ``params`` (updates the implicit cache)."""
    config = state.config
    model = params["model"]
    segments = segments_of(params)
    prompt_tokens = sum(s.tokens for s in segments)
    cached = state.openai_cache.account(
        model,
        segments,
        cache_key=CACHE_NAMESPACE,
        min_tokens=cache_min_tokens(model),
        increment=config.openai_cache_increment_tokens,
        ttl_s=config.cache_ttl_override_s or config.openai_cache_ttl_s,
    )
    state.stats.cache["gemini_cached_tokens"] += cached
    text = last_user_text(params)
    answer = synthesize(model, text, params["max_tokens"], answer_tokens=config.answer_tokens)
    thoughts = min(params["thinking_budget"], natural_length(model, "thinking\n" + text))
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": answer.output_tokens,
        "totalTokenCount": prompt_tokens + answer.output_tokens + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": answer.text}], "role": "model"},
                "finishReason": "MAX_TOKENS" if answer.truncated else "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": uuid.uuid4().hex[:22],
    }


async def handle_generate_content(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = validate_params(request.match_info["model"], await read_json_object(request))
    if params["service_tier"] == "flex":
        await admit_flex(state)
    return web.json_response(generate_content(state, params))


def routes() -> list[web.RouteDef]:
    return [web.post(PREFIX + "/models/{model}:generateContent", handle_generate_content)]
