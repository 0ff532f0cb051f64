"""Exact cost, baseline and savings per lever, with ``Decimal``.

Lever attribution is a telescoping chain, so the levers sum *exactly* to
``baseline - cost``:

    baseline  = requested model, real-time, no caching          (what callers would pay)
    routing   = baseline - actual model real-time no caching    (cheaper model chosen)
    cache     = actual real-time no caching - actual real-time with the cache's token split
    batch     = actual real-time with caching - the same on the batch path
    cost      = what the provider bills

A cache write costs more than plain input, so ``prompt_cache`` can be negative for the
request that writes the cache; the requests that read it carry the gain.

The batch discount applies to every token class (input, output, cache write and read),
and ``cache_ttl_1h`` bills cache writes at the 1-hour price instead of the 5-minute one.

An answer served without any provider call (response cache, pattern) costs nothing and
saves its whole baseline: ``saved_entirely``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from app.costing.catalog import ModelPrice, price_of
from app.events import Savings
from app.providers.base import Usage

QUANTUM = Decimal("0.0000000001")  # 1e-10 USD: exact for every catalog price times token count


def _round(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM)


def _uncached(usage: Usage, price: ModelPrice) -> Decimal:
    prompt = usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
    return prompt * price.input + usage.output_tokens * price.output


def _cached(usage: Usage, price: ModelPrice, cache_ttl_1h: bool) -> Decimal:
    # Writes the provider reported as 1-hour are billed so whatever the flag says.
    hour = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    rest = usage.cache_write_tokens - hour
    write = price.cache_write_1h if cache_ttl_1h else price.cache_write_5m
    return (
        usage.input_tokens * price.input
        + rest * write
        + hour * price.cache_write_1h
        + usage.cache_read_tokens * price.cache_read
        + usage.output_tokens * price.output
    )


def baseline_cost(usage: Usage, requested_model: str) -> Decimal:
    return _round(_uncached(usage, price_of(requested_model)))


def cost_and_savings(
    usage: Usage,
    *,
    model: str,
    requested_model: str,
    batch: bool,
    cache_ttl_1h: bool = False,
) -> tuple[Decimal, Decimal, Savings]:
    """(cost, baseline, savings by lever) for one provider answer."""
    actual = price_of(model)
    baseline = baseline_cost(usage, requested_model)
    actual_plain = _round(_uncached(usage, actual))
    actual_cached = _round(_cached(usage, actual, cache_ttl_1h))
    if batch:
        cost = _round(_cached(usage, actual, cache_ttl_1h) * (1 - actual.batch_discount))
    else:
        cost = actual_cached
    savings = Savings(
        routing=baseline - actual_plain,
        prompt_cache=actual_plain - actual_cached,
        batch=actual_cached - cost,
    )
    return cost, baseline, savings


NoCallLever = Literal["response_cache", "pattern"]


def saved_entirely(
    usage_estimate: Usage, requested_model: str, lever: NoCallLever
) -> tuple[Decimal, Decimal, Savings]:
    """(cost=0, baseline, savings) for an answer served without a provider call.

    ``usage_estimate`` is what the provider call would have used (for a response-cache
    hit, the usage of the answer being replayed); the whole baseline goes to ``lever``.
    """
    if lever not in ("response_cache", "pattern"):
        raise ValueError(f"lever must be 'response_cache' or 'pattern', got {lever!r}")
    baseline = baseline_cost(usage_estimate, requested_model)
    savings = (
        Savings(response_cache=baseline) if lever == "response_cache" else Savings(pattern=baseline)
    )
    return Decimal("0"), baseline, savings
