"""The calculator: exact Decimal arithmetic, levers that sum to baseline - cost."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.costing.calculator import NoCallLever, baseline_cost, cost_and_savings, saved_entirely
from app.costing.catalog import UnknownModelError, catalog, price_of
from app.providers.base import Usage

tokens = st.integers(min_value=0, max_value=2_000_000)


def test_reference_document_workload_matches_published_figures() -> None:
    # 2,000 input tokens (1,500 a cached shared prefix) + 500 output on a $3/$15 model:
    # $13,500 per million documents at list price, $4,725 with batch + cache read.
    usage = Usage(input_tokens=500, output_tokens=500, cache_read_tokens=1500)
    cost, baseline, _ = cost_and_savings(
        usage, model="claude-sonnet-4-5", requested_model="claude-sonnet-4-5", batch=True
    )
    assert baseline * 1_000_000 == Decimal("13500")
    assert cost * 1_000_000 == Decimal("4725")


def test_cache_write_costs_more_than_plain_input() -> None:
    usage = Usage(input_tokens=10, cache_write_tokens=2000, output_tokens=10)
    _, _, savings = cost_and_savings(
        usage, model="claude-sonnet-4-5", requested_model="claude-sonnet-4-5", batch=False
    )
    assert savings.prompt_cache < 0


@given(tokens, tokens, tokens, tokens, st.booleans(), st.sampled_from(sorted(catalog())))
def test_levers_sum_exactly_to_baseline_minus_cost(
    inp: int, out: int, write: int, read: int, batch: bool, model: str
) -> None:
    usage = Usage(
        input_tokens=inp, output_tokens=out, cache_write_tokens=write, cache_read_tokens=read
    )
    cost, baseline, savings = cost_and_savings(
        usage, model=model, requested_model=model, batch=batch
    )
    assert savings.total() == baseline - cost
    assert cost >= 0
    if not batch:
        assert savings.batch == 0


def test_unknown_model_is_an_error_not_zero() -> None:
    with pytest.raises(UnknownModelError, match="not in the pricing catalog"):
        price_of("gpt-imaginary")


# ------------------------------------------------------------------ every catalog model

models = st.sampled_from(sorted(catalog()))
usages = st.builds(
    Usage,
    input_tokens=tokens,
    output_tokens=tokens,
    cache_write_tokens=tokens,
    cache_read_tokens=tokens,
)


def _exact(usage: Usage, model: str, *, ttl_1h: bool, discount: bool) -> Decimal:
    """The bill computed class by class, each price discounted on its own."""
    p = price_of(model)
    keep = (1 - p.batch_discount) if discount else Decimal(1)
    write = p.cache_write_1h if ttl_1h else p.cache_write_5m
    return (
        usage.input_tokens * (p.input * keep)
        + usage.output_tokens * (p.output * keep)
        + usage.cache_write_tokens * (write * keep)
        + usage.cache_read_tokens * (p.cache_read * keep)
    )


@given(usages, models, models, st.booleans(), st.booleans())
def test_levers_sum_exactly_across_models(
    usage: Usage, model: str, requested: str, batch: bool, ttl_1h: bool
) -> None:
    cost, baseline, savings = cost_and_savings(
        usage, model=model, requested_model=requested, batch=batch, cache_ttl_1h=ttl_1h
    )
    assert savings.total() == baseline - cost
    assert baseline == baseline_cost(usage, requested)
    assert savings.response_cache == savings.pattern == 0
    assert cost >= 0
    if model == requested:
        assert savings.routing == 0


@given(usages, models, st.booleans())
def test_batch_discounts_every_token_class(usage: Usage, model: str, ttl_1h: bool) -> None:
    realtime, _, _ = cost_and_savings(
        usage, model=model, requested_model=model, batch=False, cache_ttl_1h=ttl_1h
    )
    batched, _, savings = cost_and_savings(
        usage, model=model, requested_model=model, batch=True, cache_ttl_1h=ttl_1h
    )
    assert realtime == _exact(usage, model, ttl_1h=ttl_1h, discount=False)
    assert batched == _exact(usage, model, ttl_1h=ttl_1h, discount=True)
    assert batched * 2 == realtime  # every catalog model: 50 % off
    assert savings.batch == realtime - batched


@given(st.integers(min_value=1, max_value=2_000_000), models, st.booleans())
def test_cache_read_is_cheaper_than_uncached_input(n: int, model: str, batch: bool) -> None:
    def cost(usage: Usage) -> Decimal:
        return cost_and_savings(usage, model=model, requested_model=model, batch=batch)[0]

    read = cost(Usage(cache_read_tokens=n))
    assert read < cost(Usage(input_tokens=n))
    assert read < cost(Usage(cache_write_tokens=n))
    _, _, savings = cost_and_savings(
        Usage(cache_read_tokens=n), model=model, requested_model=model, batch=batch
    )
    assert savings.prompt_cache > 0


@given(st.integers(min_value=1, max_value=200_000), models)
def test_one_hour_cache_write_uses_its_own_price(n: int, model: str) -> None:
    usage = Usage(cache_write_tokens=n)
    five, _, _ = cost_and_savings(usage, model=model, requested_model=model, batch=False)
    hour, _, _ = cost_and_savings(
        usage, model=model, requested_model=model, batch=False, cache_ttl_1h=True
    )
    assert five == n * price_of(model).cache_write_5m
    assert hour == n * price_of(model).cache_write_1h
    assert hour >= five


@given(
    usages,
    st.sampled_from(["input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"]),
    st.integers(min_value=1, max_value=1_000_000),
    models,
    st.booleans(),
    st.booleans(),
)
def test_cost_is_monotonic_in_tokens(
    usage: Usage, field: str, extra: int, model: str, batch: bool, ttl_1h: bool
) -> None:
    more = replace(usage, **{field: getattr(usage, field) + extra})

    def cost(u: Usage) -> Decimal:
        return cost_and_savings(
            u, model=model, requested_model=model, batch=batch, cache_ttl_1h=ttl_1h
        )[0]

    assert cost(more) > cost(usage)
    assert baseline_cost(more, model) > baseline_cost(usage, model)


def test_aliases_cost_like_their_model() -> None:
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=5000)
    assert cost_and_savings(
        usage, model="claude-sonnet-4-5-20250929", requested_model="gpt-4o-2024-08-06", batch=True
    ) == cost_and_savings(usage, model="claude-sonnet-4-5", requested_model="gpt-4o", batch=True)


@pytest.mark.parametrize("lever", ["response_cache", "pattern"])
def test_saved_entirely_books_the_whole_baseline_on_one_lever(lever: NoCallLever) -> None:
    usage = Usage(input_tokens=2000, output_tokens=500)
    cost, baseline, savings = saved_entirely(usage, "claude-sonnet-4-5", lever)
    assert cost == 0
    assert baseline == Decimal("0.0135")
    assert getattr(savings, lever) == baseline
    assert savings.total() == baseline - cost


def test_reported_one_hour_writes_are_billed_at_the_one_hour_price() -> None:
    model = "claude-sonnet-4-5"
    price = price_of(model)
    mixed = Usage(input_tokens=10, cache_write_tokens=3000, cache_write_1h_tokens=1000)
    cost, _, _ = cost_and_savings(mixed, model=model, requested_model=model, batch=False)
    expected = 10 * price.input + 2000 * price.cache_write_5m + 1000 * price.cache_write_1h
    assert cost == expected.quantize(Decimal("0.0000000001"))
