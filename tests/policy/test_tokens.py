"""The conservative token estimate and the worst-case cost a budget reserves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frugalflow.costing.calculator import cost_and_savings
from frugalflow.costing.catalog import UnknownModelError, catalog
from frugalflow.costing.rates import Mode
from frugalflow.emulator import anthropic_api, openai_api
from frugalflow.emulator.tokens import total_tokens
from frugalflow.events import Message
from frugalflow.policy.tokens import estimate_input_tokens, estimate_text_tokens, worst_case_cost
from frugalflow.providers.base import Usage

MODELS = sorted(catalog())
# (model, mode) for every service mode each catalog model is sold in.
MODEL_MODES = sorted((m, mode) for m, price in catalog().items() for mode in price.modes)
roles = st.sampled_from(["user", "assistant"])
messages_strategy = st.lists(
    st.builds(Message, role=roles, content=st.text(min_size=1, max_size=300)),
    min_size=1,
    max_size=8,
)


def _block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def emulator_counts(system: str | None, messages: list[Message]) -> tuple[int, int]:
    """The emulator's exact input tokens on its Anthropic (and Gemini) and OpenAI paths."""
    anthropic_params = {
        "system": None if system is None else [_block(system)],
        "messages": [{"role": m.role, "content": [_block(m.content)]} for m in messages],
    }
    openai_messages = [] if system is None else [{"role": "system", "content": [_block(system)]}]
    openai_messages += [{"role": m.role, "content": [_block(m.content)]} for m in messages]
    return (
        total_tokens(anthropic_api.segments_of(anthropic_params)),
        total_tokens(openai_api.segments_of({"messages": openai_messages})),
    )


# ------------------------------------------------------------------ estimate


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("a", 1),
        ("abc", 1),
        ("abcd", 2),
        ("hello world!", 4),  # 12 ASCII chars / 3
        ("é", 1),  # non-ASCII: one token per character
        ("你好", 2),
        ("привет", 6),
        ("👋", 2),  # above the BMP: two tokens
        ("hi 👋", 3),  # 3 units + 6 units = 9 units
    ],
)
def test_text_estimate_follows_the_documented_rule(text: str, tokens: int) -> None:
    assert estimate_text_tokens(text) == tokens


def test_request_estimate_adds_the_overheads() -> None:
    # The emulator's docstring example is 14 tokens; ours: 3 + (4 + 2) + (4 + 2).
    user = [Message(role="user", content="hello")]
    assert estimate_input_tokens("abcd", user) == 15
    assert emulator_counts("abcd", user) == (14, 14)
    assert estimate_input_tokens(None, user) == 3 + 4 + 2
    assert estimate_input_tokens("", user) == 3 + 4 + 4 + 2  # an empty system still counts


@given(st.one_of(st.none(), st.text(max_size=400)), messages_strategy)
def test_estimate_is_never_below_the_emulators_exact_count(
    system: str | None, messages: list[Message]
) -> None:
    estimate = estimate_input_tokens(system, messages)
    anthropic_count, openai_count = emulator_counts(system, messages)
    assert estimate >= anthropic_count
    assert estimate >= openai_count


@given(st.text(max_size=500))
def test_text_estimate_is_at_least_a_token_per_three_characters(text: str) -> None:
    assert estimate_text_tokens(text) >= -(-len(text) // 3)
    assert estimate_text_tokens(text) <= 2 * len(text)


@given(st.one_of(st.none(), st.text(max_size=50)), messages_strategy, st.text(min_size=1))
def test_every_extra_message_costs_at_least_its_overhead(
    system: str | None, messages: list[Message], extra: str
) -> None:
    longer = [*messages, Message(role="user", content=extra)]
    assert estimate_input_tokens(system, longer) >= estimate_input_tokens(system, messages) + 5


# ------------------------------------------------------------------ worst case


@pytest.mark.parametrize(
    ("model", "mode", "ttl_1h", "expected"),
    [
        # 1,000 input at the 5-minute write price $3.75 + 500 output at $15 per million
        ("claude-sonnet-4-6", "standard", False, "0.01125"),
        ("claude-sonnet-4-6", "batch", False, "0.005625"),
        # 1-hour writes: $6 per million input
        ("claude-sonnet-4-6", "standard", True, "0.0135"),
        ("claude-sonnet-4-6", "batch", True, "0.00675"),
        # OpenAI has no write surcharge: $2.50 input, $10 output
        ("gpt-4o", "standard", False, "0.0075"),
        ("gpt-4o", "batch", True, "0.00375"),
        ("gpt-4o-2024-08-06", "standard", False, "0.0075"),  # an alias prices as its model
        # flex and priority at their own rates: gpt-5.4 $1.25/$7.50 flex, $5/$30 priority
        ("gpt-5.4", "flex", False, "0.005"),
        ("gpt-5.4", "priority", False, "0.02"),
    ],
)
def test_worst_case_examples(model: str, mode: Mode, ttl_1h: bool, expected: str) -> None:
    cost = worst_case_cost(model, 1000, 500, mode=mode, cache_write_1h=ttl_1h)
    assert cost == Decimal(expected)
    assert isinstance(cost, Decimal)


@st.composite
def bounded_usage(draw: st.DrawFn, ttl_1h: bool) -> tuple[int, int, Usage]:
    """(input_tokens, max_tokens, a usage the provider could bill within those bounds)."""
    input_tokens = draw(st.integers(0, 1_000_000))
    max_tokens = draw(st.integers(1, 65_536))
    write = draw(st.integers(0, input_tokens))
    read = draw(st.integers(0, input_tokens - write))
    uncached = draw(st.integers(0, input_tokens - write - read))
    hour = draw(st.integers(0, write)) if ttl_1h else 0
    usage = Usage(
        input_tokens=uncached,
        output_tokens=draw(st.integers(0, max_tokens)),
        cache_write_tokens=write,
        cache_read_tokens=read,
        cache_write_1h_tokens=hour,
    )
    return input_tokens, max_tokens, usage


@given(st.sampled_from(MODEL_MODES), st.booleans(), st.data())
def test_worst_case_is_never_below_the_real_cost(
    model_mode: tuple[str, Mode], ttl_1h: bool, data: st.DataObject
) -> None:
    model, mode = model_mode
    input_tokens, max_tokens, usage = data.draw(bounded_usage(ttl_1h))
    reserved = worst_case_cost(model, input_tokens, max_tokens, mode=mode, cache_write_1h=ttl_1h)
    cost, _, _ = cost_and_savings(
        usage, model=model, requested_model=model, mode=mode, cache_ttl_1h=ttl_1h
    )
    assert reserved >= cost


@given(st.sampled_from(MODEL_MODES), st.booleans(), st.integers(0, 500_000))
def test_worst_case_is_reached_by_the_dearest_usage(
    model_mode: tuple[str, Mode], ttl_1h: bool, input_tokens: int
) -> None:
    model, mode = model_mode
    # Every input token written to the cache at the flagged TTL and the full max_tokens out:
    # the bound is tight, not merely safe.
    usage = Usage(
        output_tokens=700,
        cache_write_tokens=input_tokens,
        cache_write_1h_tokens=input_tokens if ttl_1h else 0,
    )
    cost, _, _ = cost_and_savings(
        usage, model=model, requested_model=model, mode=mode, cache_ttl_1h=ttl_1h
    )
    assert worst_case_cost(model, input_tokens, 700, mode=mode, cache_write_1h=ttl_1h) == cost


def test_worst_case_of_a_local_model_is_zero() -> None:
    assert worst_case_cost("ollama/llama3.2", 10_000, 1000, mode="standard") == 0


def test_worst_case_rejects_unknown_models_and_negative_counts() -> None:
    with pytest.raises(UnknownModelError):
        worst_case_cost("gpt-imaginary", 10, 10, mode="standard")
    with pytest.raises(ValueError, match=">= 0"):
        worst_case_cost("gpt-4o", -1, 10, mode="standard")
