"""OpenRouter and Cerebras chat completions: OpenAI's shape, at each provider's own path.

* ``POST /openrouter/api/v1/chat/completions``: model ids are ``<vendor>/<model>`` that
  FrugalFlow's catalog can price (``anthropic/claude-sonnet-4.6``, ``openai/gpt-5.4``);
  any other is answered 400 as OpenRouter answers an id it does not know. The answer
  names the upstream ``provider``. With usage accounting asked for (``usage: {"include":
  true}``), ``usage`` also carries ``cost``: the call at the vendor's standard list price
  (cached prompt tokens at the cache-read price) times ``openrouter_cost_factor`` (1: the
  provider agrees with the catalog; anything else simulates a price the catalog does not
  know), ``is_byok: false`` and ``cost_details``.
* ``POST /cerebras/v1/chat/completions``: model ids are Cerebras' own, without a ``/``
  (404 ``model_not_found`` otherwise: the caller forgot to strip its prefix), and the
  answer carries Cerebras' ``time_info``.

Validation, token counts, prompt caching, answers and faults are the OpenAI surface's
(app/emulator/openai_api.py).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from frugalflow.costing.rates import ModelPrice
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError, bad_request, new_request_id
from frugalflow.emulator.openai_api import create_completion, validate_params
from frugalflow.emulator.state import STATE_KEY

OPENROUTER_CHAT = "/openrouter/api/v1/chat/completions"
CEREBRAS_CHAT = "/cerebras/v1/chat/completions"
UPSTREAM_NAMES = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google AI Studio"}


def _openrouter_price(model: str) -> ModelPrice | None:
    """The catalog price OpenRouter's ``model`` bills at, or None (imported lazily: only
    these routes need the catalog)."""
    from frugalflow.costing.catalog import UnknownModelError, price_of

    try:
        return price_of(f"openrouter/{model}")
    except UnknownModelError:
        return None


def _usage_cost(price: ModelPrice, usage: dict[str, Any], factor: float) -> float:
    prompt, output = usage["prompt_tokens"], usage["completion_tokens"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    rates = price.rates("standard", prompt)
    cost = (prompt - cached) * rates.input + cached * rates.cache_read + output * rates.output
    return float(cost * Decimal(repr(factor)))


def _asks_usage_accounting(body: dict[str, Any]) -> bool:
    usage = body.get("usage")
    return isinstance(usage, dict) and usage.get("include") is True


async def handle_openrouter(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = validate_params(await read_json_object(request))
    model = params["model"]
    price = _openrouter_price(model) if "/" in model else None
    if price is None:
        raise bad_request(f"{model} is not a valid model ID", param="model")
    completion = create_completion(state, params)
    vendor = model.split("/", 1)[0]
    completion["provider"] = UPSTREAM_NAMES.get(vendor, vendor)
    if _asks_usage_accounting(params):
        usage = completion["usage"]
        usage["cost"] = _usage_cost(price, usage, state.config.openrouter_cost_factor)
        usage["is_byok"] = False
        usage["cost_details"] = {"upstream_inference_cost": None}
    completion["id"] = "gen-" + completion["id"].removeprefix("chatcmpl-")
    return web.json_response(completion, headers={"x-request-id": new_request_id("openai")})


async def handle_cerebras(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = validate_params(await read_json_object(request))
    model = params["model"]
    if "/" in model:
        raise ApiError(
            404, f"Model {model} does not exist or you do not have access to it.",
            param="model", code="model_not_found", error_type="not_found_error",
        )  # fmt: skip
    completion = create_completion(state, params)
    now = time.time()
    completion["time_info"] = {
        "queue_time": 0.0001, "prompt_time": 0.001, "completion_time": 0.01,
        "total_time": 0.0111, "created": now,
    }  # fmt: skip
    return web.json_response(completion, headers={"x-request-id": new_request_id("openai")})


def routes() -> list[web.RouteDef]:
    return [web.post(OPENROUTER_CHAT, handle_openrouter), web.post(CEREBRAS_CHAT, handle_cerebras)]
