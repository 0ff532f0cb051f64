"""The typed results of every report: pydantic models, money as ``Decimal``.

They serialize as the wire contract does (money as decimal strings), so the admin API,
the CLI (``--json``) and the MCP server can return them as they are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from frugalflow.events import Money, Savings

Dimension = Literal["tenant", "provider", "model", "service", "use_case", "path", "day"]
DIMENSIONS: tuple[Dimension, ...] = (
    "tenant",
    "provider",
    "model",
    "service",
    "use_case",
    "path",
    "day",
)
RecommendationKind = Literal[
    "model_migration", "model_switch", "batch_path", "prompt_cache", "prompt_length"
]

HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")


class Totals(BaseModel):
    """Sums over cost events (read from the rollups)."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    successes: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: Money = Decimal(0)
    baseline_cost_usd: Money = Decimal(0)
    savings_usd: Savings = Field(default_factory=Savings)

    @property
    def savings_total_usd(self) -> Decimal:
        return self.savings_usd.total()

    @property
    def savings_pct(self) -> Decimal:
        """Savings as a percentage of the baseline (0 when there is no baseline)."""
        return percent_of(self.savings_total_usd, self.baseline_cost_usd)

    def __add__(self, other: Totals) -> Totals:
        a, b = self.savings_usd, other.savings_usd
        return Totals(
            requests=self.requests + other.requests,
            successes=self.successes + other.successes,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            baseline_cost_usd=self.baseline_cost_usd + other.baseline_cost_usd,
            savings_usd=Savings(
                **{lever: getattr(a, lever) + getattr(b, lever) for lever in Savings.model_fields}
            ),
        )


def percent_of(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * HUNDRED).quantize(PERCENT) if whole else Decimal(0)


class SummaryRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: dict[str, str | date | None]  # one entry per group_by dimension, in its order
    totals: Totals


class CostSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: date
    end: date  # inclusive
    tenant: str | None
    group_by: list[Dimension]
    rows: list[SummaryRow]  # most expensive first
    totals: Totals


class LeverSaving(BaseModel):
    model_config = ConfigDict(frozen=True)

    lever: str
    savings_usd: Money
    pct_of_baseline: Decimal


class SavingsByLever(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: date
    end: date
    tenant: str | None
    cost_usd: Money
    baseline_cost_usd: Money
    savings_usd: Money
    savings_pct: Decimal
    levers: list[LeverSaving]  # largest saving first


class DailySpend(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: date
    requests: int
    cost_usd: Money
    baseline_cost_usd: Money
    savings_usd: Money


class MonthForecast(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str | None
    today: date
    days_in_month: int
    month_to_date_usd: Money
    window_days: int
    daily_average_usd: Money  # over the last ``window_days`` days, today included
    forecast_usd: Money  # daily average x days in the month


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RecommendationKind
    tenant_id: str
    use_case: str | None
    provider: str | None
    model: str | None
    title: str
    detail: str
    estimated_monthly_saving_usd: Money
    confidence: float = Field(ge=0, le=1)
    sample_requests: int
