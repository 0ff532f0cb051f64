"""Model tiers: the catalog's tiers, tier → model per provider, same-tier alternates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from frugalflow.costing.catalog import PRICING_FILE_ENV, PricingConfigError, catalog, reload_catalog
from frugalflow.policy.models import TIERS, RouterPolicy
from frugalflow.policy.tiers import (
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
from frugalflow.settings import Settings

EXPECTED_TIERS = {
    "claude-opus-5-5": "large", "claude-opus-5": "large", "claude-opus-4-8": "large",
    "claude-opus-4-7": "large", "claude-opus-4-6": "large", "claude-opus-4-5": "large",
    "claude-fable-5-1": None, "claude-fable-5": None, "claude-mythos-5-1": None,
    "claude-mythos-5": None, "claude-mythos-preview": None, "claude-sonnet-5-5": "medium",
    "claude-sonnet-5": "medium", "claude-sonnet-4-6": "medium", "claude-sonnet-4-5": "medium",
    "claude-haiku-4-5": "small", "gpt-6.1-sol": "large", "gpt-6.1-terra": "medium",
    "gpt-6-sol": "large", "gpt-6-luna": "small", "gpt-5.6": "large", "gpt-5.6-sol": "large",
    "gpt-5.6-terra": "medium", "gpt-5.6-luna": "small", "gpt-5.5": "large", "gpt-5.4": "large",
    "gpt-5.4-mini": "small", "gpt-5.4-nano": "small", "gpt-5.2": "large", "gpt-5.1": "large",
    "gpt-5": "large", "gpt-5-mini": "small", "gpt-5-nano": "small", "gpt-4.1": "medium",
    "gpt-4.1-mini": "small", "gpt-4.1-nano": "small", "gpt-4o": "medium",
    "gpt-4o-2024-05-13": None, "gpt-4o-mini": "small", "gemini-4-argon": "large",
    "gemini-4-hydrogen": "medium", "gemini-3.8-flash": "small", "gemini-3.7-flash": "small",
    "gemini-3.6-flash": "small", "gemini-3.5-flash": "medium", "gemini-3.5-flash-lite": "small",
    "gemini-3.1-pro-preview": "large", "gemini-3.1-flash-lite": "small",
    "gemini-3.1-flash-lite-preview": None, "gemini-3-flash-preview": "small",
    "gemini-2.5-pro": "large", "gemini-2.5-flash": "small", "gemini-2.5-flash-lite": "small",
    "claude-opus-4-1": "large", "claude-opus-4": "large", "claude-sonnet-4": "medium",
    "claude-3-5-haiku": "small", "cerebras/gpt-oss-120b": "medium",
    "cerebras/qwen-3.8-27b": "small", "cerebras/gemma-4-31b": "small",
}  # fmt: skip
# Past their deprecation date on 2026-12-04 (priced, never routed to).
DEPRECATED = {
    "claude-3-5-haiku", "claude-mythos-preview", "claude-opus-4", "claude-opus-4-1",
    "claude-sonnet-4", "claude-sonnet-4-5", "gemini-2.5-flash", "gemini-2.5-pro",
    "gemini-3.1-flash-lite", "gemini-3.1-flash-lite-preview", "gpt-4.1", "gpt-4.1-mini",
    "gpt-4.1-nano", "gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "gpt-5", "gpt-5-mini",
    "gpt-5-nano", "gpt-5.1", "gpt-5.4-nano",
}  # fmt: skip
DAY = date(2026, 12, 4)
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


def test_deprecated_models_are_priced_but_not_routable() -> None:
    assert {m for m, p in catalog().items() if not p.routable_on(DAY)} == DEPRECATED
    for model in DEPRECATED:
        assert all(model not in {p.model for p in routable_models(pr, t, DAY)}
                   for pr in PROVIDERS for t in TIERS)  # fmt: skip


def test_tiers_rise_with_price_within_a_provider() -> None:
    # The cheapest model of a dearer tier never lists a lower output price than the
    # cheapest of a cheaper tier: what the router picks for a tier rises with the tier.
    for provider in PROVIDERS:
        floors = [min(p.output for p in routable_models(provider, t, DAY)) for t in TIERS]
        assert floors == sorted(floors), provider


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
        ("anthropic", "medium", "claude-sonnet-5"),
        ("anthropic", "large", "claude-opus-5-5"),
        ("openai", "small", "gpt-6-luna"),  # gpt-5-nano is cheaper but deprecated
        ("openai", "medium", "gpt-6.1-terra"),
        ("openai", "large", "gpt-6-sol"),
        ("gemini", "small", "gemini-2.5-flash-lite"),
        ("gemini", "medium", "gemini-4-hydrogen"),
        ("gemini", "large", "gemini-4-argon"),
        ("ollama", "small", None),
    ],
)
def test_catalog_cheapest_routable_model_serves_a_tier(
    provider: str, tier: str, model: str | None
) -> None:
    assert model_for_tier(provider, tier, None) == model  # type: ignore[arg-type]


def test_tenant_overrides_win_then_deployment_defaults() -> None:
    defaults = deployment_defaults(Settings())
    assert defaults == ("claude-haiku-4-5", "gpt-5.4-mini", "gemini-2.5-flash-lite")
    assert model_for_tier("openai", "small", None, preferred=defaults) == "gpt-5.4-mini"
    assert model_for_tier("gemini", "small", None, preferred=defaults) == "gemini-2.5-flash-lite"
    # a default of another tier does not change what a tier means
    assert model_for_tier("openai", "medium", None, preferred=defaults) == "gpt-6.1-terra"
    # a deprecated default is never routed to
    assert model_for_tier("openai", "small", None, preferred=["gpt-4o-mini"]) == "gpt-6-luna"
    # a retired default is never routed to
    assert model_for_tier("anthropic", "small", None, preferred=["claude-3-5-haiku"]) == (
        "claude-haiku-4-5"
    )
    policy = RouterPolicy(tier_models={"openai": {"small": "gpt-4.1-mini"}})
    assert model_for_tier("openai", "small", policy.tier_models, preferred=defaults) == (
        "gpt-4.1-mini"
    )
    assert model_for_tier("openai", "large", policy.tier_models, preferred=defaults) == "gpt-6-sol"
    local = {"ollama": {"small": "ollama/llama3.2"}}
    assert model_for_tier("ollama", "small", local) == "ollama/llama3.2"


def test_nearest_model_prefers_a_dearer_tier_when_one_is_missing() -> None:
    no_medium = {"ollama": {"small": "ollama/small", "large": "ollama/large"}}
    assert nearest_model("ollama", "medium", no_medium) == ("large", "ollama/large")
    assert nearest_model("anthropic", "medium") == ("medium", "claude-sonnet-5")
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
        ("gemini", "gemini-3.5-flash-lite"),
        ("gemini", "gemini-3-flash-preview"),
        ("gemini", "gemini-3.6-flash"),
        ("gemini", "gemini-3.7-flash"),
        ("gemini", "gemini-3.8-flash"),
        ("openai", "gpt-6-luna"),
        ("openai", "gpt-5.6-luna"),
        ("openai", "gpt-5.4-mini"),  # $0.75 + $4.50
    ]


def test_alternates_on_one_provider_are_its_other_same_tier_models() -> None:
    assert alternates("openai", "gpt-5.6-terra", {"openai"}) == [("openai", "gpt-6.1-terra")]
    assert alternates("openai", "gpt-4o-2024-08-06", {"openai", "anthropic"}) == [
        ("anthropic", "claude-sonnet-5"),
        ("anthropic", "claude-sonnet-5-5"),
        ("anthropic", "claude-sonnet-4-6"),
        ("openai", "gpt-6.1-terra"),
        ("openai", "gpt-5.6-terra"),
    ]
    # unavailable providers are skipped; a lone model has no alternates
    assert alternates("anthropic", "claude-haiku-4-5", {"anthropic"}) == []


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
