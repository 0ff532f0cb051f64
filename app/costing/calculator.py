"""Exact cost, baseline and savings per lever, with ``Decimal``.

Lever attribution is a telescoping chain, so the levers sum *exactly* to
``baseline - cost``:

    baseline     = baseline model, standard mode, no caching    (what callers would pay)
    routing      = baseline - actual model standard no caching  (cheaper model chosen)
    prompt_cache = actual standard no caching - actual standard with the cache's split
    batch / flex = actual standard with caching - the same in the mode it was served in
    cost         = what the provider bills

The last step is ``batch`` on the Batch API path and ``flex`` for the real-time service
tiers: positive on the flex tier, negative when the provider served (and billed) the
request at priority. A cache write costs more than plain input, so ``prompt_cache`` can
be negative for the request that writes the cache; the requests that read it carry it.

Every step prices each token class at the mode's own rate (app/costing/rates.py), in
the context band the prompt falls in: above a model's long-context threshold the whole
request bills at the higher rates, for the baseline model by its own threshold.
``cache_ttl_1h`` bills cache writes at the 1-hour price instead of the 5-minute one;
writes the provider reported as 1-hour or extended are billed so whatever it says.

An answer served without any provider call (response cache, pattern) costs nothing and
saves its whole baseline: ``saved_entirely``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from frugalflow.costing.catalog import price_of
from frugalflow.costing.rates import Mode, Rates
from frugalflow.events import Savings
from frugalflow.providers.base import Usage

QUANTUM = Decimal("0.0000000001")  # 1e-10 USD: exact for every catalog price times token count


def _round(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM)


def prompt_tokens(usage: Usage) -> int:
    """The prompt's length as providers measure it for context bands: every input token."""
    return usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens


def _uncached(usage: Usage, rates: Rates) -> Decimal:
    return prompt_tokens(usage) * rates.input + usage.output_tokens * rates.output


def _cached(usage: Usage, rates: Rates, cache_ttl_1h: bool) -> Decimal:
    extended = min(usage.cache_write_extended_tokens, usage.cache_write_tokens)
    hour = min(usage.cache_write_1h_tokens, usage.cache_write_tokens - extended)
    rest = usage.cache_write_tokens - extended - hour
    write = rates.cache_write_1h if cache_ttl_1h else rates.cache_write_5m
    return (
        usage.input_tokens * rates.input
        + rest * write
        + hour * rates.cache_write_1h
        + extended * rates.cache_write_extended
        + usage.cache_read_tokens * rates.cache_read
        + usage.output_tokens * rates.output
    )


def baseline_cost(usage: Usage, baseline_model: str) -> Decimal:
    """``usage`` on ``baseline_model``'s standard real-time API, without caching."""
    rates = price_of(baseline_model).rates("standard", prompt_tokens(usage))
    return _round(_uncached(usage, rates))


def cost_and_savings(
    usage: Usage,
    *,
    model: str,
    requested_model: str,
    mode: Mode = "standard",
    cache_ttl_1h: bool = False,
) -> tuple[Decimal, Decimal, Savings]:
    """(cost, baseline, savings by lever) for one provider answer.

    ``requested_model`` is the baseline model (what the caller would have called);
    ``mode`` the service mode that billed it. Raises ``ModeUnavailableError`` when
    ``model`` is not sold in ``mode``.
    """
    actual = price_of(model)
    length = prompt_tokens(usage)
    standard, billed = actual.rates("standard", length), actual.rates(mode, length)
    baseline = baseline_cost(usage, requested_model)
    actual_plain = _round(_uncached(usage, standard))
    actual_cached = _round(_cached(usage, standard, cache_ttl_1h))
    cost = _round(_cached(usage, billed, cache_ttl_1h))
    tier_step = actual_cached - cost
    savings = Savings(
        routing=baseline - actual_plain,
        prompt_cache=actual_plain - actual_cached,
        batch=tier_step if mode == "batch" else Decimal(0),
        flex=tier_step if mode in ("flex", "priority") else Decimal(0),
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
