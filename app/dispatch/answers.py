"""Build the two output events of an answered request: the response and its cost event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from frugalflow.costing.calculator import NoCallLever, cost_and_savings, saved_entirely
from frugalflow.costing.catalog import price_of
from frugalflow.costing.rates import Mode
from frugalflow.costing.reported import cost_mismatch
from frugalflow.events import (
    Admitted,
    CostEvent,
    ErrorOut,
    Path,
    RequestEvent,
    ResponseEvent,
    Savings,
    Status,
    UsageOut,
    utcnow,
)
from frugalflow.policy.models import SafetyOutcome
from frugalflow.providers.base import ChatResult, Usage

log = logging.getLogger("frugalflow")


@dataclass(frozen=True, slots=True)
class Answer:
    response: ResponseEvent
    cost: CostEvent | None  # None when nothing was billed or saved (e.g. rejected)


def latency_ms(request: RequestEvent, admitted_at: datetime | None, now: datetime) -> int:
    start = request.created_at or admitted_at or now
    if start.tzinfo is None:  # naive timestamps are taken as UTC
        start = start.replace(tzinfo=now.tzinfo)
    return max(0, int((now - start).total_seconds() * 1000))


def from_result(
    admitted: Admitted, result: ChatResult, path: Path, *, fallback_reason: str | None = None
) -> Answer:
    """An answer from a provider result (immediate call or one batch line).

    ``fallback_reason`` marks an answer from another provider or model than the one
    routed to (the fallback chain): it is flagged ``status: fallback``.
    """
    request, now = admitted.request, utcnow()
    if not result.ok:
        return Answer(
            response=ResponseEvent(
                request_id=request.request_id,
                tenant_id=request.tenant_id,
                status=Status.ERROR,
                path=path,
                provider=admitted.provider,
                model=admitted.model,
                error=ErrorOut(
                    code=result.error_code or "provider_error",
                    message=result.error_message or "the provider returned an error",
                ),
                latency_ms=latency_ms(request, admitted.admitted_at, now),
                metadata=request.metadata,
                route_reason=admitted.route_reason,
                safety=admitted.safety,
            ),
            cost=None,
        )
    cost, baseline, savings = cost_and_savings(
        result.usage,
        model=admitted.model,
        requested_model=admitted.requested_model,
        mode=billed_mode(admitted.model, "batch" if path is Path.BATCH else result.service_tier),
    )
    usage = UsageOut(**result.usage.as_dict())
    reported = result.provider_cost_usd
    mismatch = cost_mismatch(cost, reported) if reported is not None else None
    if mismatch:
        log.warning("%s reported $%s for %s (%s); FrugalFlow priced it $%s", admitted.provider,
                    reported, request.request_id, admitted.model, cost)  # fmt: skip
    response = ResponseEvent(
        request_id=request.request_id,
        tenant_id=request.tenant_id,
        status=Status.OK if fallback_reason is None else Status.FALLBACK,
        path=path,
        provider=admitted.provider,
        model=result.model or admitted.model,
        content=result.content,
        usage=usage,
        cost_usd=cost,
        baseline_cost_usd=baseline,
        latency_ms=latency_ms(request, admitted.admitted_at, now),
        metadata=request.metadata,
        route_reason=admitted.route_reason,
        safety=admitted.safety,
        fallback_reason=fallback_reason,
        provider_reported_cost_usd=reported,
        cost_mismatch=mismatch,
    )
    return Answer(
        response=response, cost=_cost_event(request, response, savings, admitted.model, now)
    )


def billed_mode(model: str, mode: Mode) -> Mode:
    """``mode``, or standard when the catalog has no ``mode`` prices for ``model`` (a
    provider billing a tier the catalog lacks must not lose the answer: it is costed at
    the standard price and logged, so the catalog can be completed)."""
    if mode == "standard" or price_of(model).offers(mode):
        return mode
    log.warning("model %s was billed in %s mode, which the catalog does not price; costed "
                "at the standard price", model, mode)  # fmt: skip
    return "standard"


def _cost_event(
    request: RequestEvent,
    response: ResponseEvent,
    savings: Savings,
    model: str | None,
    now: datetime,
) -> CostEvent:
    """The cost event of a successful answer: its money and tokens, attributed to ``model``
    (what was routed to, which a provider may report under another name)."""
    return CostEvent(
        event_id=CostEvent.stable_id(request.tenant_id, request.request_id),
        request_id=request.request_id,
        tenant_id=request.tenant_id,
        service=request.service,
        use_case=request.use_case,
        provider=response.provider,
        model=model,
        path=response.path,
        **response.usage.model_dump(),
        cost_usd=response.cost_usd,
        baseline_cost_usd=response.baseline_cost_usd,
        savings_usd=savings,
        success=True,
        occurred_at=now,
        route_reason=response.route_reason,
        provider_reported_cost_usd=response.provider_reported_cost_usd,
        cost_mismatch=response.cost_mismatch,
    )


def served_free(
    request: RequestEvent,
    *,
    content: str,
    path: Path,
    lever: NoCallLever,
    usage_estimate: Usage,
    requested_model: str,
    provider: str | None,
    model: str | None,
    safety: SafetyOutcome | None = None,
    route_reason: str | None = None,
) -> Answer:
    """An answer no provider was called for (pattern, response cache): $0, whole baseline saved.

    ``usage_estimate`` is what the call would have used; ``usage`` on the answer says what
    was billed, which is nothing.
    """
    now = utcnow()
    cost, baseline, savings = saved_entirely(usage_estimate, requested_model, lever)
    response = ResponseEvent(
        request_id=request.request_id,
        tenant_id=request.tenant_id,
        status=Status.OK,
        path=path,
        provider=provider,
        model=model,
        content=content,
        cost_usd=cost,
        baseline_cost_usd=baseline,
        latency_ms=latency_ms(request, None, now),
        metadata=request.metadata,
        route_reason=route_reason,
        safety=safety,
    )
    return Answer(response=response, cost=_cost_event(request, response, savings, model, now))


def fallback(
    request: RequestEvent,
    *,
    content: str,
    reason: str,
    provider: str | None = None,
    model: str | None = None,
    safety: SafetyOutcome | None = None,
) -> Answer:
    """A stale cached or static answer: always flagged, never billed, never cached again."""
    return Answer(
        response=ResponseEvent(
            request_id=request.request_id,
            tenant_id=request.tenant_id,
            status=Status.FALLBACK,
            path=Path.FALLBACK,
            provider=provider,
            model=model,
            content=content,
            latency_ms=latency_ms(request, None, utcnow()),
            metadata=request.metadata,
            safety=safety,
            fallback_reason=reason,
        ),
        cost=None,
    )


def rejected(
    request: RequestEvent, code: str, message: str, *, safety: SafetyOutcome | None = None
) -> Answer:
    """A valid request we will not serve (unknown model, policy): answered, never dropped."""
    return Answer(
        response=ResponseEvent(
            request_id=request.request_id,
            tenant_id=request.tenant_id,
            status=Status.REJECTED,
            path=Path.NONE,
            error=ErrorOut(code=code, message=message),
            latency_ms=latency_ms(request, None, utcnow()),
            metadata=request.metadata,
            safety=safety,
        ),
        cost=None,
    )
