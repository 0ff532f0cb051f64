"""The router for model "auto": complexity, learning, hybrid, degrade, and the reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frugalflow.costing.catalog import price_of
from frugalflow.events import Message, RequestEvent
from frugalflow.policy.models import TIERS, RouterPolicy, Tier
from frugalflow.policy.router import (
    LearningStats,
    NoRoutableModelError,
    complexity_tier,
    route_auto,
)

HYBRID = RouterPolicy()
NO_STATS = LearningStats()
COMPARE = "Compare Postgres and MySQL for a write-heavy workload."  # one keyword: medium


def request(
    text: str,
    *,
    system: str | None = None,
    max_tokens: int = 512,
    history: tuple[str, ...] = (),
    tenant: str = "acme",
    use_case: str | None = "support",
) -> RequestEvent:
    messages = [
        Message(role="user" if i % 2 == 0 else "assistant", content=turn)
        for i, turn in enumerate(history)
    ]
    return RequestEvent(
        event_type="NEW_RECORD",
        request_id="r1",
        tenant_id=tenant,
        messages=[*messages, Message(role="user", content=text)],
        max_tokens=max_tokens,
        system=system,
        use_case=use_case,
    )


def stats(**by_tier: tuple[int, int]) -> LearningStats:
    """Outcomes of tenant "acme", use case "support": tier=(samples, successes)."""
    return LearningStats({("acme", "support", tier): v for tier, v in by_tier.items()})


# ------------------------------------------------------------------ complexity

PYTHON = "```python\ndef total(xs):\n    return sum(x.price for x in xs)\n```"
TRACE = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 3, in <module>\n'
    "AttributeError: 'int' object has no attribute 'price'"
)


@pytest.mark.parametrize(
    ("text", "tier", "signals"),
    [
        ("hi", "small", "no code or math"),
        ("What's the capital of France?", "small", "no code or math"),
        ("I'd like to improve my resume, any tips?", "small", "no code or math"),
        ("Select a dish from the menu for a vegetarian guest.", "small", "no code or math"),
        (COMPARE, "medium", "keywords: compare, no code or math"),
        ("Explain step by step how a bill becomes law.", "medium", "keywords: step by step"),
        (f"Why is this slow?\n{PYTHON}", "medium", "code"),
        (f"What does this mean?\n{TRACE}", "medium", "stack trace"),
        ("Simplify \\frac{a}{b} + \\frac{c}{d}", "medium", "math"),
        ("Solve 2x + 3 = 7 for x", "medium", "math"),
        ("Why is SELECT name FROM users WHERE id = 1 slow on a big table?", "medium", "code"),
        (f"Debug this:\n{PYTHON}\n{TRACE}", "large", "keywords: debug, code, stack trace"),
        ("Prove that the integral of x^2 from 0 to 1 is 1/3.", "large", "keywords: prove"),
        # keywords alone reach medium: large needs them together with code, math or length
        (
            "Analyse our current architecture and design a migration plan, weighing the "
            "trade-offs.",
            "medium",
            "keywords: analyse, design, architecture, trade-offs",
        ),
        (
            f"Analyse and optimise this function:\n{PYTHON}",
            "large",
            "keywords: analyse, optimise, code",
        ),
    ],
)
def test_complexity_examples(text: str, tier: Tier, signals: str) -> None:
    got, why = complexity_tier(request(text))
    assert got == tier, why
    assert signals in why
    assert why.split(",")[0].endswith(" tokens")


def test_length_and_long_output_raise_the_tier() -> None:
    assert complexity_tier(request("Summarise this.", system="x" * 6_000))[0] == "medium"
    tier, why = complexity_tier(request("Summarise this.", history=("y" * 60_000, "ok")))
    assert (tier, "very long input") == ("medium", why.split(", ")[1])
    assert complexity_tier(request(f"{COMPARE}", system="x" * 60_000))[0] == "large"
    tier, why = complexity_tier(request("Write a story.", max_tokens=16_000))
    assert tier == "medium"
    assert "long output (16000 max_tokens)" in why


def test_signals_come_from_the_last_user_message_only() -> None:
    # code in an earlier turn does not make a thank-you hard
    tier, why = complexity_tier(request("thanks!", history=(f"Fix:\n{PYTHON}", "Done.")))
    assert tier == "small"
    assert "no code or math" in why


@given(st.text(max_size=300), st.text(max_size=300))
def test_more_text_never_lowers_the_tier(text: str, extra: str) -> None:
    before, _ = complexity_tier(request(text or "x"))
    after, _ = complexity_tier(request((text or "x") + "\n" + extra))
    assert TIERS.index(after) >= TIERS.index(before)


# ------------------------------------------------------------------ strategies


def test_hybrid_without_outcomes_is_the_complexity_tier() -> None:
    choice = route_auto(request("hi"), "anthropic", HYBRID, NO_STATS)
    assert (choice.tier, choice.model) == ("small", "claude-haiku-4-5")
    assert choice.reason == "complexity:small (8 tokens, no code or math)"
    assert choice.provider == "anthropic"


def test_hybrid_moves_down_when_the_cheaper_tier_has_proven_itself() -> None:
    choice = route_auto(request(COMPARE), "anthropic", HYBRID, stats(small=(40, 38)))
    assert (choice.tier, choice.model) == ("small", "claude-haiku-4-5")
    assert choice.reason.startswith("learning:small 0.95 of 40 (complexity said medium: ")


@pytest.mark.parametrize(
    "outcomes",
    [
        {"small": (19, 19)},  # too few samples (learning_min_samples = 20)
        {"small": (40, 35)},  # 0.875 < 0.9
        {"large": (100, 100)},  # only a cheaper tier can move a request down
    ],
)
def test_hybrid_stays_without_enough_evidence(outcomes: dict[str, tuple[int, int]]) -> None:
    choice = route_auto(request(COMPARE), "anthropic", HYBRID, stats(**outcomes))
    assert choice.tier == "medium"
    assert choice.reason.startswith("complexity:medium (")


def test_the_target_is_compared_exactly() -> None:
    choice = route_auto(request(COMPARE), "anthropic", HYBRID, stats(small=(40, 36)))  # 0.9
    assert choice.tier == "small"


def test_hybrid_moves_up_when_the_chosen_tier_fails_too_often() -> None:
    choice = route_auto(request(COMPARE), "openai", HYBRID, stats(medium=(40, 20)))
    assert (choice.tier, choice.model) == ("large", "gpt-6-sol")
    assert choice.reason.startswith("learning:large (medium 0.50 of 40 < 0.9; complexity said")


def test_outcomes_are_per_tenant_and_use_case() -> None:
    elsewhere = LearningStats(
        {("other", "support", "small"): (50, 50), ("acme", "billing", "small"): (50, 50)}
    )
    assert route_auto(request(COMPARE), "anthropic", HYBRID, elsewhere).tier == "medium"
    no_use_case = LearningStats({("acme", "", "small"): (50, 50)})
    choice = route_auto(request(COMPARE, use_case=None), "anthropic", HYBRID, no_use_case)
    assert choice.tier == "small"


def test_learning_picks_the_cheapest_tier_meeting_the_target() -> None:
    policy = RouterPolicy(strategy="learning")
    choice = route_auto(request("hi"), "anthropic", policy, stats(small=(40, 30), medium=(40, 39)))
    assert (choice.tier, choice.model) == ("medium", "claude-sonnet-5")
    assert choice.reason == "learning:medium 0.97 of 40"
    fresh = route_auto(request("hi"), "anthropic", policy, NO_STATS)
    assert fresh.tier == "medium"
    assert fresh.reason == "learning:medium (no tier has 20 outcomes at 0.9 success yet)"


def test_learning_uses_the_policys_target_and_sample_size() -> None:
    policy = RouterPolicy(strategy="learning", learning_target=0.7, learning_min_samples=5)
    choice = route_auto(request("Prove it."), "anthropic", policy, stats(small=(5, 4)))
    assert choice.reason == "learning:small 0.80 of 5"


def test_complexity_strategy_ignores_outcomes() -> None:
    policy = RouterPolicy(strategy="complexity")
    choice = route_auto(request(COMPARE), "anthropic", policy, stats(small=(100, 100)))
    assert choice.tier == "medium"
    assert choice.reason.startswith("complexity:medium (")


def test_degrade_moves_one_tier_cheaper_and_says_so() -> None:
    choice = route_auto(request(COMPARE), "anthropic", HYBRID, NO_STATS, degrade=True)
    assert (choice.tier, choice.model) == ("small", "claude-haiku-4-5")
    assert choice.reason.startswith(
        "degraded:medium→small (forecast over monthly budget), from complexity:medium ("
    )
    floor = route_auto(request("hi"), "anthropic", HYBRID, NO_STATS, degrade=True)
    assert floor.tier == "small"
    assert floor.reason.startswith("degraded:small (already the cheapest tier), from ")


# ------------------------------------------------------------------ tier → model


def test_models_come_from_tenant_overrides_then_defaults_then_the_catalog() -> None:
    hi = request("hi")
    assert route_auto(hi, "openai", HYBRID, NO_STATS).model == "gpt-6-luna"
    assert route_auto(hi, "openai", HYBRID, NO_STATS, preferred=["gpt-5.4-mini"]).model == (
        "gpt-5.4-mini"
    )
    # a deprecated default is passed over: the router never picks a deprecated model
    assert route_auto(hi, "openai", HYBRID, NO_STATS, preferred=["gpt-4o-mini"]).model == (
        "gpt-6-luna"
    )
    tenant = RouterPolicy(tier_models={"openai": {"small": "gpt-5.6-luna"}})
    assert route_auto(hi, "openai", tenant, NO_STATS, preferred=["gpt-5.4-mini"]).model == (
        "gpt-5.6-luna"
    )


def test_a_missing_tier_takes_the_nearest_dearer_model_and_says_so() -> None:
    no_medium = RouterPolicy(
        tier_models={"ollama": {"small": "ollama/small", "large": "ollama/large"}}
    )
    choice = route_auto(request(COMPARE), "ollama", no_medium, NO_STATS)
    assert (choice.tier, choice.model) == ("large", "ollama/large")
    assert choice.reason.endswith("; no medium model on ollama, large instead")


def test_a_provider_without_tiers_is_a_clear_error() -> None:
    with pytest.raises(NoRoutableModelError) as info:
        route_auto(request("hi"), "ollama", HYBRID, NO_STATS)
    assert info.value.code == "no_model_for_tier"
    local = RouterPolicy(tier_models={"ollama": {"small": "ollama/llama3.2"}})
    choice = route_auto(request("hi"), "ollama", local, NO_STATS)
    assert (choice.model, choice.tier) == ("ollama/llama3.2", "small")


@given(
    st.text(min_size=1, max_size=200),
    st.sampled_from(["hybrid", "complexity", "learning"]),
    st.sampled_from(["anthropic", "openai", "gemini"]),
    st.booleans(),
    st.dictionaries(
        st.sampled_from(TIERS),
        st.integers(0, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    ),
)
def test_every_choice_is_a_routable_model_of_the_provider_with_a_reason(
    text: str, strategy: str, provider: str, degrade: bool, outcomes: dict[str, tuple[int, int]]
) -> None:
    policy = RouterPolicy(strategy=strategy)  # type: ignore[arg-type]
    choice = route_auto(request(text), provider, policy, stats(**outcomes), degrade=degrade)
    price = price_of(choice.model)
    assert price.provider == provider
    assert price.routable
    assert price.tier == choice.tier
    expected = "degraded:" if degrade else ("complexity:", "learning:")
    assert choice.reason.startswith(expected)


def test_learning_stats_aggregate_outcomes() -> None:
    aggregated = LearningStats.from_outcomes(
        [("acme", None, "small", True), ("acme", "", "small", False), ("acme", "x", "large", True)]
    )
    assert aggregated.counts == {("acme", "", "small"): (2, 1), ("acme", "x", "large"): (1, 1)}
    assert aggregated.outcomes("acme", None, "small") == (2, 1)
    assert aggregated.outcomes("acme", "x", "medium") == (0, 0)
