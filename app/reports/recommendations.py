"""Cost recommendations drawn from the recorded rollups of ``start..end``.

Five kinds, each estimated in USD per 30-day month (the range's amount scaled by
``30 / days in range``) with a ``confidence`` that grows with the requests behind it
(``n / (n + CONFIDENCE_HALF_REQUESTS)``):

* ``model_migration`` — a use case served by a model its provider has deprecated or
  retired (catalog dates) that names a successor: the estimate is the same tokens at the
  current minus the successor's price, so it is *negative* when the successor costs more.
  Shown whatever its sign: the move is not optional, and its cost is what to plan for.
* ``model_switch`` — a use case served by a model that has a cheaper catalog model of
  the same provider that the router may choose today, not older than it (by the
  catalog's ``effective`` date). The suggestion is the next cheaper such model (the
  smallest step down); the estimate is the cost of the same tokens, on the same path, at
  the current minus the cheaper price.
* ``batch_path`` — a use case with immediate-path traffic on models that have a batch
  discount: the immediate cost x the discount, if that traffic tolerates batch latency.
* ``prompt_cache`` — a use case and model whose prompts are long enough to cache
  (average prompt ≥ the model's minimum cacheable prefix) but whose cache-read share
  ``cache_read / (input + cache_read)`` is below ``LOW_CACHE_SHARE``. Cost events carry
  no prefixes, so the estimate assumes ``TARGET_CACHE_SHARE`` of the prompt could be
  read from cache: those tokens at input minus cache-read price (write premiums ignored).
* ``prompt_length`` — a use case whose average prompt (input + cache read + cache write
  tokens per request) exceeds ``OUTLIER_FACTOR`` x the tenant's median over its use cases;
  the estimate is the prompt cost above the median length.

Only billed paths (immediate, batch) on catalog models are considered. Results are
ordered by estimated saving, largest first (ties by kind, tenant, use case, model).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from frugalflow.costing.catalog import ModelPrice, UnknownModelError, catalog, price_of
from frugalflow.reports.models import Recommendation, RecommendationKind
from frugalflow.reports.periods import month_factor
from frugalflow.reports.rollups import Conn

CONFIDENCE_HALF_REQUESTS = 100  # requests at which confidence reaches 0.5
LOW_CACHE_SHARE = Decimal("0.10")
TARGET_CACHE_SHARE = Decimal("0.50")
OUTLIER_FACTOR = 3
CENT = Decimal("0.01")
UNATTRIBUTED = "(unattributed)"

_QUERY = """
SELECT tenant_id, use_case, provider, model, path,
       sum(requests) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cache_write_tokens) AS cache_write_tokens,
       sum(cache_read_tokens) AS cache_read_tokens, sum(cost_usd) AS cost_usd
FROM cost_rollups
WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR tenant_id = $3)
  AND path IN ('immediate', 'batch') AND model <> ''
GROUP BY tenant_id, use_case, provider, model, path
ORDER BY tenant_id, use_case, provider, model, path
"""


@dataclass(frozen=True, slots=True)
class _Usage:
    """Billed usage of one (tenant, use case, model, path) over the range."""

    tenant: str
    use_case: str  # '' = not attributed
    provider: str
    model: str
    path: str
    price: ModelPrice
    requests: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: Decimal

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def cost_at(self, price: ModelPrice) -> Decimal:
        """List cost of these tokens at ``price`` on this usage's path."""
        cost = (
            self.input_tokens * price.input
            + self.output_tokens * price.output
            + self.cache_write_tokens * price.cache_write_5m
            + self.cache_read_tokens * price.cache_read
        )
        return cost * self.path_factor(price)

    def prompt_cost_at(self, price: ModelPrice) -> Decimal:
        cost = (
            self.input_tokens * price.input
            + self.cache_write_tokens * price.cache_write_5m
            + self.cache_read_tokens * price.cache_read
        )
        return cost * self.path_factor(price)

    def path_factor(self, price: ModelPrice) -> Decimal:
        return 1 - price.mode_discount("batch") if self.path == "batch" else Decimal(1)


async def recommendations(
    conn: Conn, start: date, end: date, tenant: str | None = None
) -> list[Recommendation]:
    """Every recommendation for ``start..end`` (inclusive UTC days), largest saving first."""
    usages = _usages(await conn.fetch(_QUERY, start, end, tenant))
    scale = month_factor(start, end)
    migrations = _model_migrations(usages, scale, end)
    found = [
        *_model_switches(usages, scale),
        *_batch_paths(usages, scale),
        *_prompt_caching(usages, scale),
        *_prompt_lengths(usages, scale),
    ]
    return migrations + sorted(
        (r for r in found if r.estimated_monthly_saving_usd > 0),
        key=lambda r: (
            -r.estimated_monthly_saving_usd,
            r.kind,
            r.tenant_id,
            r.use_case or "",
            r.model or "",
        ),
    )


def _usages(rows: Iterable[Mapping[str, Any]]) -> list[_Usage]:
    out: list[_Usage] = []
    for row in rows:
        try:
            price = price_of(row["model"])
        except UnknownModelError:
            continue  # a model priced elsewhere (or removed): nothing to compare against
        out.append(
            _Usage(
                tenant=row["tenant_id"],
                use_case=row["use_case"],
                provider=row["provider"],
                model=row["model"],
                path=row["path"],
                price=price,
                requests=int(row["requests"]),
                input_tokens=int(row["input_tokens"]),
                output_tokens=int(row["output_tokens"]),
                cache_write_tokens=int(row["cache_write_tokens"]),
                cache_read_tokens=int(row["cache_read_tokens"]),
                cost_usd=Decimal(row["cost_usd"]),
            )
        )
    return out


def _group(
    usages: Iterable[_Usage], by_model: bool
) -> dict[tuple[str, str, str, str], list[_Usage]]:
    groups: dict[tuple[str, str, str, str], list[_Usage]] = defaultdict(list)
    for u in usages:
        key = (u.tenant, u.use_case, u.provider if by_model else "", u.model if by_model else "")
        groups[key].append(u)
    return groups


def _recommendation(
    kind: RecommendationKind,
    group: list[_Usage],
    title: str,
    detail: str,
    monthly_saving: Decimal,
    *,
    with_model: bool = True,
) -> Recommendation:
    first = group[0]
    requests = sum(u.requests for u in group)
    return Recommendation(
        kind=kind,
        tenant_id=first.tenant,
        use_case=first.use_case or None,
        provider=first.provider if with_model else None,
        model=first.model if with_model else None,
        title=title,
        detail=detail,
        estimated_monthly_saving_usd=monthly_saving.quantize(CENT),
        confidence=confidence(requests),
        sample_requests=requests,
    )


def confidence(requests: int) -> float:
    """0 with no data, 0.5 at ``CONFIDENCE_HALF_REQUESTS``, approaching 1 (two decimals)."""
    return round(requests / (requests + CONFIDENCE_HALF_REQUESTS), 2) if requests > 0 else 0.0


def _label(use_case: str) -> str:
    return use_case or UNATTRIBUTED


def cheaper_model(current: ModelPrice, usages: list[_Usage]) -> ModelPrice | None:
    """The next cheaper catalog model of the same provider, not older than ``current``,
    for the token mix of ``usages`` (``None`` when there is none)."""
    now = sum((u.cost_at(current) for u in usages), Decimal(0))
    today = datetime.now(UTC).date()
    candidates: list[tuple[Decimal, str, ModelPrice]] = []
    for model, price in catalog().items():
        if model == current.model or price.provider != current.provider:
            continue
        if price.effective < current.effective or not price.routable_on(today):
            continue
        cost = sum((u.cost_at(price) for u in usages), Decimal(0))
        if cost < now:
            candidates.append((cost, model, price))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def _model_migrations(usages: list[_Usage], scale: Decimal, day: date) -> list[Recommendation]:
    """One per use case and model past its deprecation date (module doc), largest first."""
    out = []
    for group in _group(usages, by_model=True).values():
        current, first = group[0].price, group[0]
        status = current.status_on(max(day, datetime.now(UTC).date()))
        if status == "active" or not current.successor:
            continue
        try:
            successor = price_of(current.successor)
        except UnknownModelError:
            continue
        now = sum((u.cost_at(current) for u in group), Decimal(0))
        then = sum((u.cost_at(successor) for u in group), Decimal(0))
        when = f"retires on {current.retires}" if current.retires else "is deprecated"
        change = "saves" if now >= then else "adds"
        out.append(
            _recommendation(
                "model_migration",
                group,
                f"Migrate {_label(first.use_case)} from {first.model} to {successor.model}",
                f"{first.model} {when} ({status} now); its successor {successor.model} "
                f"{change} ${abs(now - then) * scale:.2f} a month on this traffic "
                f"(${then:.4f} instead of ${now:.4f} over the period).",
                (now - then) * scale,
            )
        )
    return sorted(out, key=lambda r: (-abs(r.estimated_monthly_saving_usd), r.tenant_id))


def _model_switches(usages: list[_Usage], scale: Decimal) -> list[Recommendation]:
    out = []
    for group in _group(usages, by_model=True).values():
        current = group[0].price
        target = cheaper_model(current, group)
        if target is None:
            continue
        now = sum((u.cost_at(current) for u in group), Decimal(0))
        then = sum((u.cost_at(target) for u in group), Decimal(0))
        first = group[0]
        out.append(
            _recommendation(
                "model_switch",
                group,
                f"Switch {_label(first.use_case)} from {first.model} to {target.model}",
                f"The same tokens would cost ${then:.4f} on {target.model} instead of "
                f"${now:.4f} on {first.model} over the period; check quality on a sample "
                "(e.g. an A/B experiment) before switching.",
                (now - then) * scale,
            )
        )
    return out


def _batch_paths(usages: list[_Usage], scale: Decimal) -> list[Recommendation]:
    out = []
    for group in _group(usages, by_model=False).values():
        immediate = [
            u for u in group if u.path == "immediate" and u.price.mode_discount("batch") > 0
        ]
        if not immediate:
            continue
        cost = sum((u.cost_usd for u in immediate), Decimal(0))
        saving = sum((u.cost_usd * u.price.mode_discount("batch") for u in immediate), Decimal(0))
        label = _label(group[0].use_case)
        out.append(
            _recommendation(
                "batch_path",
                immediate,
                f"Send {label} with priority 'batch' if it tolerates batch latency",
                f"{label} spent ${cost:.4f} on the immediate path; the providers' Batch APIs "
                "discount it (usually 50 %) for answers within minutes to 24 hours.",
                saving * scale,
                with_model=False,
            )
        )
    return out


def _prompt_caching(usages: list[_Usage], scale: Decimal) -> list[Recommendation]:
    out = []
    for group in _group(usages, by_model=True).values():
        price = group[0].price
        requests = sum(u.requests for u in group)
        uncached = sum(u.input_tokens for u in group)
        read = sum(u.cache_read_tokens for u in group)
        prompt = sum(u.prompt_tokens for u in group)
        if not requests or not uncached + read:
            continue
        share = Decimal(read) / Decimal(uncached + read)
        if share >= LOW_CACHE_SHARE or prompt / requests < max(price.min_cacheable_tokens, 1):
            continue
        saving = sum(
            (
                (TARGET_CACHE_SHARE - share)
                * (u.input_tokens + u.cache_read_tokens)
                * (price.input - price.cache_read)
                * u.path_factor(price)
                for u in group
            ),
            Decimal(0),
        )
        first = group[0]
        out.append(
            _recommendation(
                "prompt_cache",
                group,
                f"Cache the shared prompt prefix of {_label(first.use_case)} on {first.model}",
                f"Only {share:.1%} of its {uncached + read} prompt tokens were read from the "
                f"prompt cache although prompts average {prompt // requests} tokens; put the "
                f"stable part (system prompt, documents) first. Estimate: "
                f"{TARGET_CACHE_SHARE:.0%} of prompt tokens read at the cache-read price.",
                saving * scale,
            )
        )
    return out


def _prompt_lengths(usages: list[_Usage], scale: Decimal) -> list[Recommendation]:
    out = []
    by_tenant: dict[str, dict[str, list[_Usage]]] = defaultdict(lambda: defaultdict(list))
    for u in usages:
        by_tenant[u.tenant][u.use_case].append(u)
    for use_cases in by_tenant.values():
        averages = {
            name: Decimal(sum(u.prompt_tokens for u in group))
            / Decimal(sum(u.requests for u in group))
            for name, group in use_cases.items()
            if sum(u.requests for u in group)
        }
        if len(averages) < 2:
            continue
        median = statistics.median(averages.values())
        if median <= 0:
            continue
        for name, average in averages.items():
            if average <= OUTLIER_FACTOR * median:
                continue
            group = use_cases[name]
            excess = 1 - median / average
            saving = sum((u.prompt_cost_at(u.price) * excess for u in group), Decimal(0))
            out.append(
                _recommendation(
                    "prompt_length",
                    group,
                    f"Shorten the prompts of {_label(name)}",
                    f"Its prompts average {average:.0f} tokens, {average / median:.1f}x the "
                    f"tenant's median of {median:.0f} across use cases; trimming context or "
                    "history to the median would save the estimate.",
                    saving * scale,
                    with_model=len({u.model for u in group}) == 1,
                )
            )
    return out
