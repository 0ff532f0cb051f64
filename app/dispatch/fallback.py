"""The fallback chain: what a request gets when its provider cannot answer (issue 5, item 9).

On a provider failure or an open circuit, in order:

1. another provider or model of the same tier (``frugalflow.policy.tiers.alternates``), if its
   circuit allows and the failure was not the request's own fault (a 400 would fail
   anywhere): a real answer, billed, flagged ``status: fallback``;
2. the stale copy of a cached answer to the same request (``ResponseCache.get_stale``);
3. the tenant's static answer for the use case (``fallback.static_templates``);
4. otherwise the error answer, with its stable code.

Every fallback answer carries ``fallback_reason``; stale and static answers cost nothing
and are never written to the response cache.
"""

from __future__ import annotations

from frugalflow.dispatch.answers import Answer, fallback, from_result
from frugalflow.dispatch.calls import call_provider
from frugalflow.events import Admitted, Path
from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.tiers import alternates
from frugalflow.providers.base import ChatResult
from frugalflow.providers.circuit import CIRCUIT_OPEN
from frugalflow.providers.errors import RETRYABLE_CODES, ErrorCode

# Failures another provider may not share. Not bad requests: they would fail anywhere.
FAILOVER_CODES = frozenset(
    {
        CIRCUIT_OPEN,
        "internal_error",
        ErrorCode.AUTH_ERROR,
        ErrorCode.BILLING,
        ErrorCode.NOT_FOUND,
        ErrorCode.PROVIDER_ERROR,
        *RETRYABLE_CODES,
    }
)
MAX_ALTERNATES = 2  # each costs up to a provider timeout; the caller is waiting


async def answer_failure(
    p: Pipeline, admitted: Admitted, failure: ChatResult, path: Path, *, may_call: bool = True
) -> Answer:
    """The best answer for a request whose provider failed (``may_call``: time for step 1)."""
    policy = p.policy.policy_for(admitted.request.tenant_id).fallback
    code = failure.error_code or "provider_error"
    if may_call and policy.alternate_provider and code in FAILOVER_CODES:
        available = list(p.providers.configured())
        tried = 0
        for provider, model in alternates(admitted.provider, admitted.model, available):
            if tried >= MAX_ALTERNATES:
                break
            if not p.circuits.allow(provider, model):
                continue
            tried += 1
            other = admitted.model_copy(update={"provider": provider, "model": model})
            result = await call_provider(p, other)
            p.circuits.record(provider, model, result)
            if result.ok:
                reason = f"{code}: answered by {provider}/{model} instead of {admitted.model}"
                return from_result(other, result, Path.IMMEDIATE, fallback_reason=reason)
            log.warning("fallback %s/%s failed for %s: %s", provider, model,
                        admitted.request.request_id, result.error_code)  # fmt: skip
    request = admitted.request
    if policy.stale_cache and admitted.cache_digest and p.response_cache is not None:
        stale = await p.response_cache.get_stale(request.tenant_id, admitted.cache_digest)
        if stale is not None:
            return fallback(request, content=stale.content, provider=stale.provider,
                            model=stale.model, safety=admitted.safety,
                            reason=f"{code}: stale cached answer")  # fmt: skip
    template = policy.template_for(request.use_case)
    if template is not None:
        return fallback(request, content=template, safety=admitted.safety,
                        reason=f"{code}: static answer")  # fmt: skip
    return from_result(admitted, failure, path)
