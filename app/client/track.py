"""``track_cost``: spend of provider calls made outside the stream, in the same books.

    tracker = client.track_cost(tenant_id="acme", service="search", use_case="faq")

    @tracker                                   # a function returning an SDK response
    async def ask(q): return await anthropic.messages.create(...)

    async with tracker as t:                   # or any code that gets a response
        t.record(await openai.chat.completions.create(...))

Each response is priced with the stream's own calculator (``cost_and_savings``: the
catalog, the same normalized usage, the service tier the provider says billed it) and
published as a ``CostEvent`` with ``path: "direct"`` on ``llm.direct-costs``: a worker
books it in the tenant's budgets (``frugalflow.policy.direct_spend``) and forwards it to
``llm.cost-events``, where the sink stores it like any other (the cost reports). Its
``event_id`` is derived from the provider's response id (``msg_…``, ``chatcmpl-…``), in
a namespace of its own: recording the same response twice, or a redelivery, is stored
once, and never collides with a streamed answer's event. The baseline is the same model
at list price, so only the provider's prompt cache and service tier show as savings (no
routing happened).

A response that cannot be priced (``unknown_model``, ``unsupported_response``) is logged
and skipped — the caller's call already happened and is returned as is — unless the
tracker is ``strict``, when ``TrackingError`` is raised.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from frugalflow.client.errors import TrackingError
from frugalflow.client.sdk_usage import SdkCall, read_response
from frugalflow.costing.calculator import cost_and_savings
from frugalflow.costing.catalog import UnknownModelError
from frugalflow.costing.rates import ModeUnavailableError
from frugalflow.events import CostEvent, Path, utcnow

if TYPE_CHECKING:
    from frugalflow.client.client import FrugalFlowClient

log = logging.getLogger("frugalflow.client")

F = TypeVar("F", bound=Callable[..., Any])


def direct_event_id(tenant_id: str, call_id: str) -> str:
    return hashlib.sha256(f"direct\x00{tenant_id}\x00{call_id}".encode()).hexdigest()[:32]


def cost_event(
    call: SdkCall, *, tenant_id: str, service: str | None, use_case: str | None
) -> CostEvent:
    """The cost event of one direct call (``TrackingError`` when it cannot be priced)."""
    try:
        cost, baseline, savings = cost_and_savings(
            call.usage, model=call.model, requested_model=call.model, mode=call.mode
        )
    except UnknownModelError:
        raise TrackingError(
            "unknown_model", f"model {call.model!r} is not in the pricing catalog"
        ) from None
    except ModeUnavailableError as exc:
        raise TrackingError("mode_unavailable", str(exc)) from None
    call_id = call.call_id or uuid.uuid4().hex
    return CostEvent(
        event_id=direct_event_id(tenant_id, call_id),
        request_id=call_id,
        tenant_id=tenant_id,
        service=service,
        use_case=use_case,
        provider=call.provider,
        model=call.model,
        path=Path.DIRECT,
        input_tokens=call.usage.input_tokens,
        output_tokens=call.usage.output_tokens,
        cache_write_tokens=call.usage.cache_write_tokens,
        cache_read_tokens=call.usage.cache_read_tokens,
        cost_usd=cost,
        baseline_cost_usd=baseline,
        savings_usd=savings,
        success=True,
        occurred_at=utcnow(),
        route_reason="direct",
    )


class CostTracker:
    """Decorator and (async) context manager; see the module docstring."""

    def __init__(
        self,
        client: FrugalFlowClient,
        *,
        tenant_id: str,
        service: str | None = None,
        use_case: str | None = None,
        strict: bool = False,
    ) -> None:
        if not tenant_id or len(tenant_id) > 128:
            raise TrackingError("invalid_field", "tenant_id must be 1-128 characters")
        self._client, self.tenant_id = client, tenant_id
        self.service, self.use_case, self.strict = service, use_case, strict
        self._pending: list[CostEvent] = []

    def event_for(self, response: Any) -> CostEvent | None:
        try:
            call = read_response(response)
            return cost_event(
                call, tenant_id=self.tenant_id, service=self.service, use_case=self.use_case
            )
        except TrackingError as exc:
            if self.strict:
                raise
            log.warning("track_cost: not recorded (%s)", exc.code)
            return None

    def record(self, response: Any) -> Any:
        """Price ``response`` and queue its cost event (sent when the block ends)."""
        event = self.event_for(response)
        if event is not None:
            self._pending.append(event)
        return response

    async def flush(self) -> None:
        events, self._pending = self._pending, []
        for event in events:
            await self._client.publish_cost(event)

    def flush_blocking(self) -> None:
        events, self._pending = self._pending, []
        for event in events:
            self._client.publish_cost_from_sync(event)

    # --- context manager: the events are published when the block ends, even on error

    def __enter__(self) -> CostTracker:
        return self

    def __exit__(self, *_: object) -> None:
        self.flush_blocking()

    async def __aenter__(self) -> CostTracker:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.flush()

    # --- decorator

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                response = await cast(Callable[..., Awaitable[Any]], fn)(*args, **kwargs)
                event = self.event_for(response)
                if event is not None:
                    await self._client.publish_cost(event)
                return response

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            response = fn(*args, **kwargs)
            event = self.event_for(response)
            if event is not None:
                self._client.publish_cost_from_sync(event)
            return response

        return cast(F, run)
