"""Bodies, query parameters and results of the admin API that the report layer lacks.

Query models are validated from the query string (a failure is a 400 ``bad_request``);
body models from JSON (a failure is a 422 ``validation_error``). Both feed the OpenAPI
document, so what is checked and what is documented cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from frugalflow.experiments.models import Experiment, Name, Status
from frugalflow.policy.models import (
    AlertsPolicy,
    BaselinePolicy,
    CachePolicy,
    ContextPolicy,
    FallbackPolicy,
    PatternPolicy,
    RateLimits,
    RouterPolicy,
    SafetyPolicy,
    TenantPolicy,
)
from frugalflow.reports.budgets import Budget
from frugalflow.reports.models import DIMENSIONS, Recommendation
from frugalflow.reports.periods import utc_today

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
EARLIEST = date(1970, 1, 1)
LATEST = date(9999, 12, 30)

_DIMENSION = "|".join(DIMENSIONS)
Attribution = Annotated[str, Field(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]
Limit = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=10, allow_inf_nan=False)]
Threshold = Annotated[Decimal, Field(gt=0, le=10, max_digits=12, decimal_places=10,
                                     allow_inf_nan=False)]  # fmt: skip


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TenantQuery(_Query):
    tenant: Name | None = None


class RangeQuery(TenantQuery):
    """Inclusive UTC days; ``end`` defaults to today, ``start`` to 30 days ending ``end``."""

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _range(self) -> RangeQuery:
        for value in (self.start, self.end):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise ValueError(f"dates must lie between {EARLIEST} and {LATEST}")
        end = self.end or min(utc_today(), LATEST)
        start = self.start or max(end - timedelta(days=DEFAULT_RANGE_DAYS - 1), EARLIEST)
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        return self

    @property
    def days(self) -> tuple[date, date]:
        assert self.start is not None and self.end is not None
        return self.start, self.end


class SummaryQuery(RangeQuery):
    group_by: (
        Annotated[str, Field(pattern=rf"^({_DIMENSION})(,({_DIMENSION}))*$", max_length=200)] | None
    ) = Field(None, description=f"comma-separated dimensions among {', '.join(DIMENSIONS)}")


class ScopeQuery(_Query):
    """A budget's scope below its tenant ('' or absent = any)."""

    service: Attribution = ""
    use_case: Attribution = ""


class ExperimentsQuery(TenantQuery):
    status: Status | None = None


class AnalysisQuery(_Query):
    min_sample: int | None = Field(
        None, ge=1, le=10_000_000, description="impressions per variant (default: settings)"
    )


class BudgetIn(BaseModel):
    """``PUT /v1/budgets/{tenant}``: limits in USD (decimal strings or numbers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_limit_usd: Limit | None = None
    monthly_limit_usd: Limit | None = None
    alert_thresholds: list[Threshold] = Field(
        default_factory=lambda: [Decimal("0.8"), Decimal("1.0")], max_length=10
    )
    hard_stop_ratio: Decimal = Field(
        Decimal("1.5"), ge=1, le=1000, max_digits=14, decimal_places=10, allow_inf_nan=False
    )


class BudgetList(BaseModel):
    budgets: list[Budget]


class RecommendationList(BaseModel):
    start: date
    end: date
    tenant: str | None
    recommendations: list[Recommendation]


class ExperimentList(BaseModel):
    experiments: list[Experiment]


class CacheInvalidated(BaseModel):
    tenant: str
    deleted: int


class PolicyPatch(BaseModel):
    """``PATCH /v1/tenants/{tenant}/policy``: sections merged into the stored document.

    A field given replaces the stored one (``null`` is a value, e.g. no rate limit); a
    section given as ``null`` is removed, so it falls back to the default (``'*'``) policy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limits: RateLimits | None = None
    safety: SafetyPolicy | None = None
    cache: CachePolicy | None = None
    patterns: PatternPolicy | None = None
    router: RouterPolicy | None = None
    context: ContextPolicy | None = None
    baseline: BaselinePolicy | None = None
    fallback: FallbackPolicy | None = None
    alerts: AlertsPolicy | None = None


class PolicyView(BaseModel):
    # No docstring: it would be published as the response schema's description.
    # ``document``: what is stored (only what differs; ``{}`` and ``updated_at`` null when
    # nothing is); ``effective``: what workers apply (defaults ← '*' ← the tenant's own).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    tenant: str
    document: dict[str, Any]
    effective: TenantPolicy
    updated_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready", "unavailable"]
    postgres: Literal["ok", "unreachable"]
