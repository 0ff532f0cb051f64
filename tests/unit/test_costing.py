"""The calculator: exact Decimal arithmetic, levers that sum to baseline - cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.costing.calculator import cost_and_savings
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
