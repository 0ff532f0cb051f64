"""Model tiers: the catalog's tiers, tier → model per provider, same-tier alternates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.costing.catalog import PRICING_FILE_ENV, PricingConfigError, catalog, reload_catalog
from app.policy.models import TIERS, RouterPolicy
from app.policy.tiers import (
    alternates,
    cheaper,
    dearer,
    deployment_defaults,
    model_for_tier,
    nearest_model,
    routable_models,
    tier_models_problems,
    tier_of,
)
from app.settings import Settings

EXPECTED_TIERS = {
    "claude-opus-4-5": "large",
    "claude-opus-4-1": "large",
    "claude-opus-4": "large",
    "claude-sonnet-4-5": "medium",
    "claude-sonnet-4": "medium",
    "claude-haiku-4-5": "small",
    "claude-3-5-haiku": "small",
    "gpt-4o": "medium",
    "gpt-4o-mini": "small",
    "gpt-4.1": "medium",
    "gpt-4.1-mini": "small",
    "gpt-4.1-nano": "small",
    "gpt-5": "large",
    "gpt-5-mini": "small",
    "gpt-5-nano": "small",
    "gemini-2.5-pro": "large",
    "gemini-2.5-flash": "small",
    "gemini-2.5-flash-lite": "small",
}
RETIRED = {"claude-opus-4-1", "claude-opus-4", "claude-sonnet-4", "claude-3-5-haiku"}
PROVIDERS = ("anthropic", "gemini", "openai")


@pytest.fixture(autouse=True)
def _packaged_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()


# ------------------------------------------------------------------ the catalog's tiers


def test_every_packaged_model_has_the_expected_tier() -> None:
    assert {model: tier_of(model) for model in catalog()} == EXPECTED_TIERS


def test_retired_models_are_priced_but_not_routable() -> None:
    assert {m for m, p in catalog().items() if not p.routable} == RETIRED


def test_tiers_rise_with_price_within_a_provider() -> None:
    # A dearer tier never lists a lower output price than a cheaper tier's dearest model
    # (gpt-5 ties gpt-4o at $10: its reasoning tokens make real answers dearer).
    for provider in PROVIDERS:
        ceilings = [
            max((p.output for p in routable_models(provider, t)), default=None) for t in TIERS
        ]
        floors = [
            min((p.output for p in routable_models(provider, t)), default=None) for t in TIERS
        ]
        for low in range(len(TIERS)):
            for high in range(low + 1, len(TIERS)):
                if ceilings[low] is not None and floors[high] is not None:
                    assert ceilings[low] <= floors[high], (provider, TIERS[low], TIERS[high])


def test_tier_of_aliases_unknown_and_local_models() -> None:
    assert tier_of("claude-sonnet-4-5-20250929") == "medium"
    assert tier_of("gpt-imaginary") is None
    assert tier_of("ollama/llama3.2") is None


def test_cheaper_and_dearer_step_once_and_stop_at_the_ends() -> None:
    assert [cheaper(t) for t in TIERS] == ["small", "small", "medium"]
    assert [dearer(t) for t in TIERS] == ["medium", "large", "large"]


# ------------------------------------------------------------------ tier → model


@pytest.mark.parametrize(
    ("provider", "tier", "model"),
    [
        ("anthropic", "small", "claude-haiku-4-5"),  # claude-3-5-haiku is cheaper but retired
        ("anthropic", "medium", "claude-sonnet-4-5"),
        ("anthropic", "large", "claude-opus-4-5"),
        ("openai", "small", "gpt-5-nano"),
        ("openai", "medium", "gpt-4.1"),
        ("openai", "large", "gpt-5"),
        ("gemini", "small", "gemini-2.5-flash-lite"),
        ("gemini", "medium", None),
        ("gemini", "large", "gemini-2.5-pro"),
        ("ollama", "small", None),
    ],
)
def test_catalog_cheapest_routable_model_serves_a_tier(
    provider: str, tier: str, model: str | None
) -> None:
    assert model_for_tier(provider, tier, None) == model  # type: ignore[arg-type]


def test_tenant_overrides_win_then_deployment_defaults() -> None:
    defaults = deployment_defaults(Settings())
    assert defaults == ("claude-haiku-4-5", "gpt-4o-mini", "gemini-2.5-flash")
    assert model_for_tier("openai", "small", None, preferred=defaults) == "gpt-4o-mini"
    assert model_for_tier("gemini", "small", None, preferred=defaults) == "gemini-2.5-flash"
    # a default of another tier does not change what a tier means
    assert model_for_tier("openai", "medium", None, preferred=defaults) == "gpt-4.1"
    # a retired default is never routed to
    assert model_for_tier("anthropic", "small", None, preferred=["claude-3-5-haiku"]) == (
        "claude-haiku-4-5"
    )
    policy = RouterPolicy(tier_models={"openai": {"small": "gpt-4.1-mini"}})
    assert model_for_tier("openai", "small", policy.tier_models, preferred=defaults) == (
        "gpt-4.1-mini"
    )
    assert model_for_tier("openai", "large", policy.tier_models, preferred=defaults) == "gpt-5"
    local = {"ollama": {"small": "ollama/llama3.2"}}
    assert model_for_tier("ollama", "small", local) == "ollama/llama3.2"


def test_nearest_model_prefers_a_dearer_tier_when_one_is_missing() -> None:
    assert nearest_model("gemini", "medium") == ("large", "gemini-2.5-pro")
    assert nearest_model("anthropic", "medium") == ("medium", "claude-sonnet-4-5")
    only_small = {"ollama": {"small": "ollama/llama3.2"}}
    assert nearest_model("ollama", "large", only_small) == ("small", "ollama/llama3.2")
    assert nearest_model("ollama", "large") is None


def test_tier_models_problems_names_each_bad_entry() -> None:
    assert tier_models_problems({"openai": {"small": "gpt-4o-mini"}}) == []
    assert tier_models_problems({"ollama": {"small": "ollama/qwen"}}) == []
    assert tier_models_problems(
        {"openai": {"small": "claude-haiku-4-5", "large": "gpt-imaginary"}}
    ) == [
        "openai.large: model 'gpt-imaginary' is not in the catalog",
        "openai.small: model 'claude-haiku-4-5' is served by 'anthropic', not 'openai'",
    ]


# ------------------------------------------------------------------ alternates


def test_alternates_try_other_providers_first_then_siblings() -> None:
    found = alternates("anthropic", "claude-haiku-4-5", {"anthropic", "openai", "gemini"})
    assert found == [
        ("gemini", "gemini-2.5-flash-lite"),
        ("gemini", "gemini-2.5-flash"),
        ("openai", "gpt-5-nano"),
        ("openai", "gpt-4.1-nano"),
        ("openai", "gpt-4o-mini"),
        ("openai", "gpt-4.1-mini"),  # $0.40 + $1.60
        ("openai", "gpt-5-mini"),  # $0.25 + $2.00
    ]


def test_alternates_on_one_provider_are_its_other_same_tier_models() -> None:
    assert alternates("openai", "gpt-4o", {"openai"}) == [("openai", "gpt-4.1")]
    assert alternates("openai", "gpt-4o-2024-08-06", {"openai", "anthropic"}) == [
        ("anthropic", "claude-sonnet-4-5"),
        ("openai", "gpt-4.1"),
    ]
    # unavailable providers are skipped; a lone model has no alternates
    assert alternates("anthropic", "claude-sonnet-4-5", {"anthropic"}) == []


@pytest.mark.parametrize("model", sorted(EXPECTED_TIERS))
def test_alternates_are_same_tier_routable_and_never_the_model(model: str) -> None:
    provider = catalog()[model].provider
    found = alternates(provider, model, set(PROVIDERS))
    assert (provider, model) not in found
    assert len(found) == len(set(found))
    for other_provider, other in found:
        price = catalog()[other]
        assert price.provider == other_provider
        assert price.tier == EXPECTED_TIERS[model]
        assert price.routable
    others = [p for p, _ in found if p != provider]
    assert found[: len(others)] == [f for f in found if f[0] != provider]  # others first
    assert found == alternates(provider, model, list(reversed(PROVIDERS)))  # deterministic


def test_alternates_of_untiered_models_are_empty() -> None:
    assert alternates("ollama", "ollama/llama3.2", {"anthropic", "openai"}) == []
    assert alternates("openai", "gpt-imaginary", {"anthropic"}) == []


# ------------------------------------------------------------------ the catalog fields


def test_override_keeps_the_packaged_tier_and_may_tier_a_new_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    entry = """
    provider: openai
    input: "0.01"
    output: "0.02"
    cache_write_5m: "0.01"
    cache_write_1h: "0.01"
    cache_read: "0.001"
    batch_discount: "0.50"
    min_cacheable_tokens: 1024
    context_window: 128000
    effective: 2026-01-01
"""
    text = f"models:\n  gpt-4o:{entry}  acme-tiny:{entry}    tier: small\n"
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    monkeypatch.setenv(PRICING_FILE_ENV, str(path))
    reload_catalog()
    assert tier_of("gpt-4o") == "medium"  # a negotiated price does not change the tier
    assert tier_of("acme-tiny") == "small"
    assert model_for_tier("openai", "small") == "acme-tiny"  # now the cheapest small


@pytest.mark.parametrize(
    ("extra", "field"), [("    tier: huge\n", "tier"), ("    routable: maybe\n", "routable")]
)
def test_bad_tier_fields_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extra: str, field: str
) -> None:
    entry = (
        '\n    provider: openai\n    input: "1"\n    output: "1"\n    cache_write_5m: "1"\n'
        '    cache_write_1h: "1"\n    cache_read: "0.1"\n    batch_discount: "0.5"\n'
        "    min_cacheable_tokens: 1\n    context_window: 1000\n    effective: 2026-01-01\n"
    )
    path = tmp_path / "prices.yaml"
    path.write_text(f"models:\n  acme:{entry}{extra}")
    monkeypatch.setenv(PRICING_FILE_ENV, str(path))
    with pytest.raises(PricingConfigError) as info:
        reload_catalog()
    assert info.value.field == field
    assert info.value.model == "acme"
