"""Value objects shared by the policy modules: a tenant's policy and the outcomes of checks.

``TenantPolicy`` is what an operator configures per tenant (admin API
``/v1/tenants/{tenant}/policy``, stored in Postgres ``tenant_policies``); every field has a
default, and a stored document only says what differs. ``effective_policy`` merges a
stored document over the defaults section by section.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["small", "medium", "large"]
TIERS: tuple[Tier, ...] = ("small", "medium", "large")

# Response-cache TTL per use case when neither the request nor the tenant says otherwise.
DEFAULT_CACHE_TTL_S: dict[str, int] = {
    "recommendations": 3600,
    "scheduling": 7200,
    "content": 1800,
    "learning_paths": 14400,
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimits(_Section):
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)  # estimated input + max_tokens


class SafetyPolicy(_Section):
    pii: Literal["redact", "block", "allow"] = "redact"
    injection: Literal["block", "flag", "allow"] = "block"
    sensitive_keywords: list[str] = Field(default_factory=list)
    keyword_action: Literal["block", "redact"] = "block"


class CachePolicy(_Section):
    enabled: bool = True
    ttl_s_by_use_case: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CACHE_TTL_S))
    default_ttl_s: int = Field(default=1800, ge=0)
    stale_ttl_s: int = Field(default=7 * 86400, ge=0)  # how long a stale copy may serve as fallback
    semantic: bool = False
    semantic_threshold: float = Field(default=0.92, gt=0, le=1)


class PatternRule(_Section):
    name: str = Field(min_length=1, max_length=64)
    phrases: list[str] = Field(min_length=1)  # matched on the normalized whole message
    answer: str = Field(min_length=1)
    use_cases: list[str] = Field(default_factory=list)  # empty = every use case


class PatternPolicy(_Section):
    enabled: bool = True
    rules: list[PatternRule] | None = None  # None = the packaged defaults


class RouterPolicy(_Section):
    strategy: Literal["hybrid", "complexity", "learning"] = "hybrid"
    # provider → tier → model; missing entries come from the catalog's tiers
    tier_models: dict[str, dict[Tier, str]] = Field(default_factory=dict)
    learning_target: float = Field(default=0.9, gt=0, le=1)  # success rate a cheaper tier must show
    learning_min_samples: int = Field(default=20, ge=1)


class ContextPolicy(_Section):
    max_history_tokens: int | None = Field(default=8000, ge=1)  # None = never trim


class FallbackPolicy(_Section):
    alternate_provider: bool = True
    stale_cache: bool = True
    static_templates: dict[str, str] = Field(default_factory=dict)  # use case (or "*") → text
    on_budget_stop: Literal["fallback", "reject"] = "fallback"

    def template_for(self, use_case: str | None) -> str | None:
        """The static answer for a use case, else the catch-all ``"*"``, else None."""
        return self.static_templates.get(use_case or "") or self.static_templates.get("*")


class BaselinePolicy(_Section):
    """What the tenant would call without FrugalFlow: the model savings are measured against.

    For a request that names its model, the baseline is that model. For ``model: "auto"``
    it is the use case's model here, else ``model``, else the provider's large-tier model
    (the model a team reaches for when nothing chooses for it: see app/intake/route.py).
    """

    model: str | None = None
    by_use_case: dict[str, str] = Field(default_factory=dict)

    def model_for(self, use_case: str | None) -> str | None:
        return self.by_use_case.get(use_case or "") or self.model


class AlertsPolicy(_Section):
    """Where the tenant's alerts are delivered (issue 18): channel *names* configured in
    ``FRUGALFLOW_ALERT_CHANNELS`` (a policy never holds a URL, key or password).
    ``channels`` None = the deployment's ``FRUGALFLOW_ALERT_DEFAULT_CHANNELS``, [] = none;
    ``kinds`` None = every alert kind, else only those listed."""

    channels: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] | None = None
    kinds: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None


class TenantPolicy(_Section):
    # Sections are frozen, so one default instance can be shared.
    rate_limits: RateLimits = RateLimits()
    safety: SafetyPolicy = SafetyPolicy()
    cache: CachePolicy = CachePolicy()
    patterns: PatternPolicy = PatternPolicy()
    router: RouterPolicy = RouterPolicy()
    context: ContextPolicy = ContextPolicy()
    fallback: FallbackPolicy = FallbackPolicy()
    baseline: BaselinePolicy = BaselinePolicy()
    alerts: AlertsPolicy = AlertsPolicy()


def effective_policy(*documents: dict[str, Any]) -> TenantPolicy:
    """Later documents override earlier ones, section by section (keys within a section)."""
    merged: dict[str, dict[str, Any]] = {}
    for document in documents:
        for section, values in document.items():
            if isinstance(values, dict):
                merged.setdefault(section, {}).update(values)
            else:
                merged[section] = values  # let validation name the bad section
    return TenantPolicy.model_validate(merged)


class SafetyOutcome(BaseModel):
    """What the safety checks did; recorded on the answer (``safety``)."""

    model_config = ConfigDict(frozen=True)

    action: Literal["allow", "flag", "redact", "block"]
    findings: list[str] = Field(default_factory=list)  # sorted kinds: "email", "iban", ...
    code: str | None = None  # the stable rejection code when ``action == "block"``


class RouteChoice(BaseModel):
    """The router's decision for ``model: "auto"`` (or the pinned model, reason ``requested``)."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    tier: Tier | None
    reason: str  # e.g. "complexity:small (short, no code)", "learning:small 0.95 of 40"
