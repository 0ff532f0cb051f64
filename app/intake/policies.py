"""The policy steps intake applies to a valid request, in order (issue 5).

    safety → pattern → forecast (degrade?) → route + trim → response cache
    → budget hard stop → rate limits → reserve → admitted

Each step may answer the request itself (blocked, pattern, cache hit, rejected, budget
fallback); a request that passes them all is admitted with its reservation held. Free
answers use neither rate limit nor budget. Everything here runs inside intake's
per-event iteration, so the ledger and rate tables may be written.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from frugalflow.dispatch.answers import Answer, fallback, rejected, served_free
from frugalflow.events import Admitted, Path, RequestEvent, utcnow
from frugalflow.intake.route import (
    Route,
    Router,
    RouteRejected,
    baseline_model,
    choose_route,
    default_model,
)
from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.budget import BudgetBook, scopes_of
from frugalflow.policy.ledger import publish_alerts, warn_deprecated
from frugalflow.policy.models import RouteChoice, SafetyOutcome, TenantPolicy
from frugalflow.policy.patterns import match_pattern
from frugalflow.policy.rate_limit import RateWindows
from frugalflow.policy.response_cache import CachedAnswer, cache_digest, ttl_for
from frugalflow.policy.router import LearningStats, NoRoutableModelError, route_auto
from frugalflow.policy.safety import check_request
from frugalflow.policy.snapshot import NEVER
from frugalflow.policy.tiers import deployment_defaults, tier_of
from frugalflow.policy.tokens import estimate_input_tokens, typical_text_tokens, worst_case_cost
from frugalflow.policy.trimming import trim_history
from frugalflow.providers.base import Usage

# Codes of a variant that cannot be routed: the request is then served without the
# experiment (any other outcome, e.g. a budget stop, applies to the request as a whole).
ROUTE_CODES = frozenset(
    {
        "unknown_model",
        "model_retired",
        "model_provider_mismatch",
        "model_required",
        "provider_not_configured",
    }
)


POLICY_WAIT_S = 30.0


async def decide(p: Pipeline, request: RequestEvent) -> Admitted | Answer:
    if p.policy.loaded_at == NEVER and p.settings.database_url is not None and not p.policy_waited:
        await _first_policy(p)
    policy = p.policy.policy_for(request.tenant_id)
    sent, safety = check_request(request, policy.safety)
    if safety.action == "block":
        return rejected(
            request, safety.code or "safety_blocked", _blocked_message(safety), safety=safety
        )
    recorded_safety = safety if safety.action != "allow" else None

    pattern = match_pattern(sent, policy.patterns)
    if pattern is not None:
        requested = _baseline_model(p, sent, policy)
        return served_free(
            request,
            content=pattern.answer,
            path=Path.PATTERN,
            lever="pattern",
            usage_estimate=Usage(
                input_tokens=estimate_input_tokens(sent.system, sent.messages),
                output_tokens=typical_text_tokens(pattern.answer),
            ),
            requested_model=requested,
            provider=None,
            model=None,
            safety=recorded_safety,
            route_reason=f"pattern:{pattern.rule}",
        )

    book = BudgetBook(p.tables["budget_ledger"])
    today = datetime.now(UTC).date()
    scopes = scopes_of(request.service, request.use_case)
    budgets = p.policy.budgets_for(request.tenant_id)
    over = book.forecast_over(request.tenant_id, budgets, scopes, today)
    await publish_alerts(p, book, request.tenant_id, over)

    try:
        route = choose_route(
            sent,
            p.settings,
            p.providers.batch_capable(),
            router=_router(p, sent, policy, degrade=bool(over)),
            degrade=bool(over),
            day=today,
            baseline=policy.baseline,
            flex_capable=p.providers.flex_capable(),
        )
    except RouteRejected as exc:
        return rejected(request, exc.code, exc.message, safety=recorded_safety)
    if route.deprecated is not None:
        await warn_deprecated(p, book, request.tenant_id, route.deprecated)
    if not p.providers.is_configured(route.provider):
        return rejected(
            request,
            "provider_not_configured",
            f"provider {route.provider!r} has no API key and no emulator configured",
            safety=recorded_safety,
        )
    trimmed, dropped = trim_history(sent.system, sent.messages, policy.context.max_history_tokens)
    if dropped:
        sent = sent.model_copy(update={"messages": trimmed})

    tier = route.tier or tier_of(route.model)
    ttl = ttl_for(sent, policy.cache)
    # Auto-routed requests share answers within a tier; a pinned model only its own.
    cache_tier = tier if route.reason != "requested" and tier else route.model
    digest = cache_digest(sent, cache_tier)
    if ttl > 0 and p.response_cache is not None:
        hit = await p.response_cache.get(request.tenant_id, digest)
        semantic = p.semantic_cache() if hit is None and policy.cache.semantic else None
        if semantic is not None:
            near = await semantic.lookup_request(
                sent, cache_tier, threshold=policy.cache.semantic_threshold
            )
            if near is not None:
                hit = await p.response_cache.get(request.tenant_id, near.digest)
        if hit is not None:
            return _from_cache(request, hit, route, recorded_safety)

    input_tokens = estimate_input_tokens(sent.system, sent.messages)
    worst = worst_case_cost(
        route.model,
        input_tokens,
        sent.max_tokens,
        # flex falls back to the standard tier before its deadline: reserve for that
        mode="batch" if route.path == "batch" else "standard",
        cache_write_1h=route.path == "batch" and p.settings.anthropic_batch_cache_ttl_1h,
    )
    stop = book.hard_stop(request.tenant_id, budgets, scopes, worst, today)
    if stop is not None:
        await publish_alerts(p, book, request.tenant_id, [stop.alert(today)])
        return await _budget_fallback(p, request, policy, digest, stop.message, recorded_safety)

    limited = RateWindows(p.tables["rate_windows"]).check_and_count(
        request.tenant_id, input_tokens + sent.max_tokens, policy.rate_limits, time.time()
    )
    if limited is not None:
        return rejected(
            request,
            limited.code,
            f"{limited.message}; retry in {limited.retry_after_s}s",
            safety=recorded_safety,
        )
    book.reserve(request.tenant_id, request.request_id, scopes, worst, today)
    return Admitted(
        request=sent,
        path=route.path,  # type: ignore[arg-type]
        provider=route.provider,
        model=route.model,
        requested_model=route.requested_model,
        admitted_at=utcnow(),
        tier=tier,
        route_reason=route.reason + (f"; trimmed {dropped} messages" if dropped else ""),
        safety=recorded_safety,
        cache_digest=digest if ttl > 0 else None,
        cache_tier=cache_tier,
        cache_ttl_s=ttl,
    )


async def _first_policy(p: Pipeline) -> None:
    """Budgets are only exact once they are known: wait (bounded) for the first load."""
    deadline = time.monotonic() + POLICY_WAIT_S
    while p.policy.loaded_at == NEVER and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    p.policy_waited = True  # once: later requests never wait
    if p.policy.loaded_at == NEVER:
        log.warning("policies and budgets not loaded after %.0fs (Postgres?): serving on "
                    "defaults, budgets unenforced until they load", POLICY_WAIT_S)  # fmt: skip


def _router(p: Pipeline, request: RequestEvent, policy: TenantPolicy, *, degrade: bool) -> Router:
    stats = LearningStats(counts=p.policy.learning)
    preferred = deployment_defaults(p.settings)

    def choose(provider: str) -> RouteChoice | None:
        try:
            return route_auto(
                request, provider, policy.router, stats, degrade=degrade, preferred=preferred
            )
        except NoRoutableModelError:
            return None  # the provider's default model serves it

    return choose


def _baseline_model(p: Pipeline, request: RequestEvent, policy: TenantPolicy) -> str:
    """What the baseline of a free answer is priced on: as for a routed one (route.py)."""
    if request.model != "auto":
        return request.model
    provider = request.provider or p.settings.default_provider
    default = default_model(p.settings, provider) or p.settings.default_model
    return baseline_model(provider, default, request.use_case, policy.baseline)


def _from_cache(
    request: RequestEvent, hit: CachedAnswer, route: Route, safety: SafetyOutcome | None
) -> Answer:
    usage = hit.usage
    return served_free(
        request,
        content=hit.content,
        path=Path.RESPONSE_CACHE,
        lever="response_cache",
        # What replaying the call would have used: every prompt token as plain input.
        usage_estimate=Usage(
            input_tokens=usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens,
            output_tokens=usage.output_tokens,
        ),
        requested_model=route.requested_model,
        provider=hit.provider,
        model=hit.model,
        safety=safety,
        route_reason=route.reason,
    )


async def _budget_fallback(
    p: Pipeline,
    request: RequestEvent,
    policy: TenantPolicy,
    digest: str,
    reason: str,
    safety: SafetyOutcome | None,
) -> Answer:
    """Past the hard stop: a stale cached answer, else the use case's static answer, else no."""
    if policy.fallback.on_budget_stop == "fallback":
        if policy.fallback.stale_cache and p.response_cache is not None:
            stale = await p.response_cache.get_stale(request.tenant_id, digest)
            if stale is not None:
                why = f"budget_hard_stop: stale cached answer ({reason})"
                return fallback(request, content=stale.content, provider=stale.provider,
                                model=stale.model, safety=safety, reason=why)  # fmt: skip
        template = policy.fallback.template_for(request.use_case)
        if template is not None:
            return fallback(request, content=template, safety=safety,
                            reason=f"budget_hard_stop: static answer ({reason})")  # fmt: skip
    return rejected(request, "budget_hard_stop", reason, safety=safety)


def _blocked_message(safety: SafetyOutcome) -> str:
    return f"refused by the tenant's safety policy: {', '.join(safety.findings)}"
