"""The calculator: exact Decimal arithmetic per service mode and context band, levers that
sum to baseline - cost."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frugalflow.costing.calculator import (
    QUANTUM,
    NoCallLever,
    baseline_cost,
    cost_and_savings,
    prompt_tokens,
    saved_entirely,
)
from frugalflow.costing.catalog import UnknownModelError, catalog, price_of
from frugalflow.costing.rates import Mode, ModeUnavailableError, Rates
from frugalflow.providers.base import Usage

tokens = st.integers(min_value=0, max_value=2_000_000)
models = st.sampled_from(sorted(catalog()))
# (model, mode) for every service mode each catalog model is sold in.
model_modes = st.sampled_from(
    sorted((m, mode) for m, price in catalog().items() for mode in price.modes)
)
LONG_MODELS = sorted(m for m, p in catalog().items() if p.long_context is not None)
usages = st.builds(
    Usage,
    input_tokens=tokens,
    output_tokens=tokens,
    cache_write_tokens=tokens,
    cache_read_tokens=tokens,
)


def _exact(usage: Usage, rates: Rates, *, ttl_1h: bool) -> Decimal:
    """The bill computed class by class at one set of rates."""
    write = rates.cache_write_1h if ttl_1h else rates.cache_write_5m
    return (
        usage.input_tokens * rates.input
        + usage.output_tokens * rates.output
        + usage.cache_write_tokens * write
        + usage.cache_read_tokens * rates.cache_read
    ).quantize(QUANTUM)


def test_reference_document_workload_matches_published_figures() -> None:
    # 2,000 input tokens (1,500 a cached shared prefix) + 500 output on a $3/$15 model:
    # $13,500 per million documents at list price, $4,725 with batch + cache read.
    usage = Usage(input_tokens=500, output_tokens=500, cache_read_tokens=1500)
    cost, baseline, _ = cost_and_savings(
        usage, model="claude-sonnet-4-6", requested_model="claude-sonnet-4-6", mode="batch"
    )
    assert baseline * 1_000_000 == Decimal("13500")
    assert cost * 1_000_000 == Decimal("4725")


def test_cache_write_costs_more_than_plain_input() -> None:
    usage = Usage(input_tokens=10, cache_write_tokens=2000, output_tokens=10)
    _, _, savings = cost_and_savings(
        usage, model="claude-sonnet-4-6", requested_model="claude-sonnet-4-6"
    )
    assert savings.prompt_cache < 0


def test_unknown_model_is_an_error_not_zero() -> None:
    with pytest.raises(UnknownModelError, match="not in the pricing catalog"):
        price_of("gpt-imaginary")


def test_a_mode_the_model_is_not_sold_in_is_an_error() -> None:
    assert not price_of("claude-sonnet-4-6").offers("flex")
    with pytest.raises(ModeUnavailableError, match="no flex prices"):
        cost_and_savings(
            Usage(input_tokens=1), model="claude-sonnet-4-6", requested_model="claude-sonnet-4-6",
            mode="flex",
        )  # fmt: skip


# ------------------------------------------------------------------ every model and mode


@given(usages, model_modes, models, st.booleans())
def test_levers_sum_exactly_across_models_and_modes(
    usage: Usage, model_mode: tuple[str, Mode], requested: str, ttl_1h: bool
) -> None:
    model, mode = model_mode
    cost, baseline, savings = cost_and_savings(
        usage, model=model, requested_model=requested, mode=mode, cache_ttl_1h=ttl_1h
    )
    assert savings.total() == baseline - cost
    assert baseline == baseline_cost(usage, requested)
    assert savings.response_cache == savings.pattern == 0
    assert cost >= 0
    if model == requested:
        assert savings.routing == 0
    if mode != "batch":
        assert savings.batch == 0
    if mode not in ("flex", "priority"):
        assert savings.flex == 0


@given(usages, model_modes, st.booleans())
def test_every_token_class_bills_at_its_modes_own_price(
    usage: Usage, model_mode: tuple[str, Mode], ttl_1h: bool
) -> None:
    model, mode = model_mode
    price = price_of(model)
    rates = price.rates(mode, prompt_tokens(usage))
    standard = price.rates("standard", prompt_tokens(usage))
    cost, _, savings = cost_and_savings(
        usage, model=model, requested_model=model, mode=mode, cache_ttl_1h=ttl_1h
    )
    assert cost == _exact(usage, rates, ttl_1h=ttl_1h)
    step = _exact(usage, standard, ttl_1h=ttl_1h) - cost
    assert (savings.batch if mode == "batch" else savings.flex) == (
        step if mode != "standard" else 0
    )


@given(model_modes, st.integers(min_value=1, max_value=1_000_000))
def test_cache_read_is_never_dearer_than_uncached_input(
    model_mode: tuple[str, Mode], n: int
) -> None:
    model, mode = model_mode

    def cost(usage: Usage) -> Decimal:
        return cost_and_savings(usage, model=model, requested_model=model, mode=mode)[0]

    read = cost(Usage(cache_read_tokens=n))
    assert read <= cost(Usage(input_tokens=n))
    assert read <= cost(Usage(cache_write_tokens=n))


@given(st.integers(min_value=1, max_value=150_000), models)
def test_one_hour_cache_write_uses_its_own_price(n: int, model: str) -> None:
    usage = Usage(cache_write_tokens=n)
    five, _, _ = cost_and_savings(usage, model=model, requested_model=model)
    hour, _, _ = cost_and_savings(usage, model=model, requested_model=model, cache_ttl_1h=True)
    assert five == (n * price_of(model).cache_write_5m).quantize(QUANTUM)
    assert hour == (n * price_of(model).cache_write_1h).quantize(QUANTUM)
    assert hour >= five


@given(
    usages,
    st.sampled_from(["input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"]),
    st.integers(min_value=1, max_value=1_000_000),
    model_modes,
    st.booleans(),
)
def test_cost_is_monotonic_in_tokens(
    usage: Usage, field: str, extra: int, model_mode: tuple[str, Mode], ttl_1h: bool
) -> None:
    model, mode = model_mode
    more = replace(usage, **{field: getattr(usage, field) + extra})

    def cost(u: Usage) -> Decimal:
        return cost_and_savings(
            u, model=model, requested_model=model, mode=mode, cache_ttl_1h=ttl_1h
        )[0]

    assert cost(more) >= cost(usage)
    assert baseline_cost(more, model) >= baseline_cost(usage, model)


# ------------------------------------------------------------------ long-context band


@given(st.sampled_from(LONG_MODELS), st.data())
def test_above_the_threshold_the_whole_request_bills_at_the_long_rates(
    model: str, data: st.DataObject
) -> None:
    price = price_of(model)
    assert price.long_context is not None
    threshold = price.long_context.above_tokens
    mode = data.draw(st.sampled_from(sorted(price.modes)))
    output = data.draw(st.integers(0, 100_000))
    read = data.draw(st.integers(0, threshold))
    at = Usage(input_tokens=threshold - read, cache_read_tokens=read, output_tokens=output)
    above = replace(at, input_tokens=at.input_tokens + 1)
    at_cost, _, _ = cost_and_savings(at, model=model, requested_model=model, mode=mode)
    above_cost, _, _ = cost_and_savings(above, model=model, requested_model=model, mode=mode)
    assert at_cost == _exact(at, price.modes[mode], ttl_1h=False)
    assert above_cost == _exact(above, price.long_context.modes[mode], ttl_1h=False)


def test_long_context_example_gpt_5_4() -> None:
    # gpt-5.4: $2.50 / $15 up to 272k prompt tokens, $5 / $22.50 for the whole request above.
    short = Usage(input_tokens=272_000, output_tokens=1_000)
    long = Usage(input_tokens=272_001, output_tokens=1_000)
    assert cost_and_savings(short, model="gpt-5.4", requested_model="gpt-5.4")[0] == Decimal(
        "0.695"
    )
    assert cost_and_savings(long, model="gpt-5.4", requested_model="gpt-5.4")[0] == Decimal(
        "1.382505"
    )


def test_the_baseline_uses_the_baseline_models_own_threshold() -> None:
    # 250k prompt tokens: above Gemini 3.1 Pro's 200k band, below gpt-5.4's 272k one.
    usage = Usage(input_tokens=250_000, output_tokens=0)
    assert baseline_cost(usage, "gemini-3.1-pro-preview") == Decimal("1.0")  # $4 / M
    assert baseline_cost(usage, "gpt-5.4") == Decimal("0.625")  # $2.50 / M


# ------------------------------------------------------------------ mode-specific rules


def test_a_cached_read_on_the_batch_path_is_not_always_half_price() -> None:
    # Gemini 2.5 Flash-Lite: batch input is half of $0.10, the cached read stays $0.01.
    price = price_of("gemini-2.5-flash-lite")
    assert price.rates("batch").input * 2 == price.input
    assert price.rates("batch").cache_read == price.cache_read
    usage = Usage(cache_read_tokens=1_000_000)
    standard, _, _ = cost_and_savings(usage, model=price.model, requested_model=price.model)
    batch, _, savings = cost_and_savings(
        usage, model=price.model, requested_model=price.model, mode="batch"
    )
    assert standard == batch == Decimal("0.01")
    assert savings.batch == 0


def test_flex_saves_and_priority_costs_on_the_flex_lever() -> None:
    usage = Usage(input_tokens=10_000, output_tokens=1_000)
    kwargs = {"model": "gpt-5.4", "requested_model": "gpt-5.4"}
    standard, _, _ = cost_and_savings(usage, **kwargs)
    flex, _, flex_savings = cost_and_savings(usage, mode="flex", **kwargs)
    priority, _, priority_savings = cost_and_savings(usage, mode="priority", **kwargs)
    assert flex_savings.flex == standard - flex > 0
    assert priority_savings.flex == standard - priority < 0
    assert flex == Decimal("0.02")  # $1.25 / $7.50
    assert priority == Decimal("0.08")  # $5 / $30


def test_extended_cache_writes_bill_at_their_own_price() -> None:
    price = price_of("gpt-5.6")
    usage = Usage(cache_write_tokens=3_000, cache_write_extended_tokens=1_000)
    cost, _, _ = cost_and_savings(usage, model="gpt-5.6", requested_model="gpt-5.6")
    assert cost == 2_000 * price.cache_write_5m + 1_000 * price.standard.cache_write_extended
    assert price.standard.cache_write_extended > price.cache_write_5m


def test_aliases_cost_like_their_model() -> None:
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=5000)
    assert cost_and_savings(
        usage, model="claude-sonnet-4-5-20250929", requested_model="gpt-4o-2024-08-06", mode="batch"
    ) == cost_and_savings(usage, model="claude-sonnet-4-5", requested_model="gpt-4o", mode="batch")


@pytest.mark.parametrize("lever", ["response_cache", "pattern"])
def test_saved_entirely_books_the_whole_baseline_on_one_lever(lever: NoCallLever) -> None:
    usage = Usage(input_tokens=2000, output_tokens=500)
    cost, baseline, savings = saved_entirely(usage, "claude-sonnet-4-6", lever)
    assert cost == 0
    assert baseline == Decimal("0.0135")
    assert getattr(savings, lever) == baseline
    assert savings.total() == baseline - cost


def test_reported_one_hour_writes_are_billed_at_the_one_hour_price() -> None:
    model = "claude-sonnet-4-6"
    price = price_of(model)
    mixed = Usage(input_tokens=10, cache_write_tokens=3000, cache_write_1h_tokens=1000)
    cost, _, _ = cost_and_savings(mixed, model=model, requested_model=model)
    expected = 10 * price.input + 2000 * price.cache_write_5m + 1000 * price.cache_write_1h
    assert cost == expected.quantize(QUANTUM)
