"""Cross-cutting request handling for the emulated APIs.

Order per API call: count + log the body, add fixed latency, roll for a fault (eligible
endpoints only), run the handler, and render any error in the route's provider shape
(including aiohttp's own 404/405). Control routes (``/_emulator``) bypass all of it.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler

from frugalflow.emulator.bodies import loggable_body
from frugalflow.emulator.errors import ApiError, provider_for_path
from frugalflow.emulator.faults import FaultInjector
from frugalflow.emulator.state import STATE_KEY

FAULT_MESSAGES = {
    429: "Rate limit exceeded (emulated fault).",
    500: "Internal server error (emulated fault).",
    503: "Service unavailable (emulated fault).",
    529: "Overloaded (emulated fault).",
}


def endpoint_key(request: web.Request) -> str:
    """``"METHOD /route/{template}"`` so stats and fault targeting ignore concrete ids."""
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return f"{request.method} {template}"


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_emulator"):
        return await handler(request)
    state = request.app[STATE_KEY]
    provider = provider_for_path(request.path)
    endpoint = endpoint_key(request)
    state.stats.count_request(endpoint)
    response: web.StreamResponse
    try:
        if not request.content_type.startswith("multipart/"):
            state.stats.log_body(endpoint, loggable_body(await request.read()))
        config = state.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if FaultInjector.eligible(config, endpoint):
            fault, remaining = state.faults.decide(config)
            if remaining != config.fail_next_n:
                state.config = config.updated({"fail_next_n": remaining})
            if fault is not None and fault.kind == "timeout":
                state.stats.faults["timeout"] += 1
                await state.hang(config.timeout_hang_s)  # the client gives up first
            elif fault is not None:
                state.stats.faults[f"error_{fault.status}"] += 1
                raise ApiError(
                    fault.status,
                    FAULT_MESSAGES.get(fault.status, f"Emulated fault {fault.status}."),
                    retry_after_s=config.retry_after_s,
                )
        response = await handler(request)
    except ApiError as exc:
        response = exc.render(provider)
    except web.HTTPException as exc:  # unknown route / method: keep the provider's shape
        response = ApiError(exc.status, f"{exc.reason}: {request.method} {request.path}").render(
            provider
        )
    state.stats.responses_by_status[str(response.status)] += 1
    return response
