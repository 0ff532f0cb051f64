"""Pricing and tiers of the named OpenAI-compatible providers' models (``<name>/<model>``):
OpenRouter at its vendors' catalog prices, Cerebras' catalog entries, a provider's own
prices from FRUGALFLOW_OPENAI_COMPATIBLE, $0 only for local endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from frugalflow.costing.calculator import cost_and_savings
from frugalflow.costing.catalog import (
    PRICING_FILE_ENV,
    PricingConfigError,
    UnknownModelError,
    price_of,
    priced_models,
    reload_catalog,
)
from frugalflow.costing.named_prices import OPENAI_COMPATIBLE_ENV
from frugalflow.costing.rates import ModeUnavailableError
from frugalflow.costing.reported import cost_mismatch, tolerance
from frugalflow.policy.tiers import (
    alternates,
    model_for_tier,
    nearest_model,
    routable_models,
    tier_of,
)
from frugalflow.providers.base import Usage
from frugalflow.providers.vendor_ids import wire_id

MILLION = Decimal(1_000_000)
DAY = date(2026, 12, 4)


@pytest.fixture(autouse=True)
def _packaged_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    monkeypatch.delenv(OPENAI_COMPATIBLE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.undo()
    reload_catalog()


def entries(monkeypatch: pytest.MonkeyPatch, listed: list[dict[str, Any]]) -> None:
    monkeypatch.setenv(OPENAI_COMPATIBLE_ENV, json.dumps(listed))
    reload_catalog()


def per_million(model: str) -> tuple[Decimal, Decimal]:
    price = price_of(model)
    return price.input * MILLION, price.output * MILLION


# ------------------------------------------------------------------ OpenRouter


@pytest.mark.parametrize(
    ("model", "vendor_model"),
    [
        ("openrouter/anthropic/claude-sonnet-4-6", "claude-sonnet-4-6"),
        ("openrouter/anthropic/claude-sonnet-4.6", "claude-sonnet-4-6"),  # OpenRouter's id
        ("openrouter/openai/gpt-5.4", "gpt-5.4"),
        ("openrouter/google/gemini-3.1-pro-preview", "gemini-3.1-pro-preview"),
        ("openrouter/anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),  # an alias
    ],
)
def test_openrouter_models_cost_their_vendor_models_list_price(
    model: str, vendor_model: str
) -> None:
    price, vendor = price_of(model), price_of(vendor_model)
    assert price.provider == "openrouter"
    assert price.model == f"openrouter/{model.split('/')[1]}/{vendor.model}"
    assert price.standard == vendor.standard
    assert (price.tier, price.retires, price.deprecated) == (
        vendor.tier, vendor.retires, vendor.deprecated,
    )  # fmt: skip
    assert list(price.modes) == ["standard"]  # no batch or flex through the gateway
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=300)
    ours, _, _ = cost_and_savings(usage, model=model, requested_model=model)
    direct, _, _ = cost_and_savings(usage, model=vendor_model, requested_model=vendor_model)
    assert ours == direct > 0
    with pytest.raises(ModeUnavailableError):
        cost_and_savings(usage, model=model, requested_model=model, mode="batch")


def test_openrouter_keeps_the_vendor_long_context_band() -> None:
    price = price_of("openrouter/openai/gpt-5.4")
    assert price.long_context is not None and price.long_context.above_tokens == 272_000
    assert price.rates("standard", 272_001) == price_of("gpt-5.4").rates("standard", 272_001)


@pytest.mark.parametrize(
    "model",
    [
        "openrouter/meta-llama/llama-3.3-70b-instruct",  # a vendor the catalog does not price
        "openrouter/anthropic/gpt-5.4",  # a model of another vendor
        "openrouter/anthropic/claude-imaginary",
        "openrouter/gpt-5.4",  # no vendor
        "openrouter/",
        "cerebras/llama-3.1-8b",  # not carried (not_carried.yaml)
        "vllm/qwen3",  # not a configured provider
    ],
)
def test_unpriced_models_of_paid_providers_are_unknown_never_free(model: str) -> None:
    with pytest.raises(UnknownModelError):
        price_of(model)


def test_openrouter_wire_ids_use_its_own_spelling() -> None:
    assert wire_id("anthropic/claude-sonnet-4-6") == "anthropic/claude-sonnet-4.6"
    assert wire_id("anthropic/claude-sonnet-4.6") == "anthropic/claude-sonnet-4.6"
    assert wire_id("anthropic/claude-sonnet-4-5-20250929") == "anthropic/claude-sonnet-4-5-20250929"
    assert wire_id("openai/gpt-5.4-mini") == "openai/gpt-5.4-mini"
    assert wire_id("google/gemini-3.1-pro-preview") == "google/gemini-3.1-pro-preview"
    assert wire_id("meta-llama/llama-3.3-70b-instruct") == "meta-llama/llama-3.3-70b-instruct"


# ------------------------------------------------------------------ Cerebras


def test_cerebras_models_are_catalog_entries() -> None:
    assert per_million("cerebras/gpt-oss-120b") == (Decimal("0.35"), Decimal("0.75"))
    assert per_million("cerebras/gemma-4-31b") == (Decimal("0.99"), Decimal("1.49"))
    price = price_of("cerebras/qwen-3.8-27b")
    assert (price.provider, price.tier, price.context_window) == ("cerebras", "small", 65536)
    assert price.cache_read == price.input  # no cache-read price listed: no discount assumed
    assert not price.offers("batch")


# ------------------------------------------------------------------ listed providers


def test_a_listed_provider_prices_by_model_then_default_and_free_only_when_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries(monkeypatch, [
        {"name": "gateway", "base_url": "https://gw/v1",
         "models": {"big": {"input": "2.00", "output": "8.00", "cache_read": "0.20",
                            "tier": "large"},
                    "small": {"input": "0.10", "output": "0.40", "tier": "small"}},
         "default_price": {"input": "1.00", "output": "3.00"}},
        {"name": "paid", "base_url": "https://paid/v1", "models": {"m": {"input": 1, "output": 2}}},
        {"name": "vllm", "base_url": "http://gpu/v1", "free": True,
         "models": {"qwen3-32b": {"tier": "medium"}}},
    ])  # fmt: skip
    assert per_million("gateway/big") == (Decimal(2), Decimal(8))
    assert price_of("gateway/big").cache_read * MILLION == Decimal("0.2")
    assert per_million("gateway/anything") == (Decimal(1), Decimal(3))  # the default price
    assert price_of("gateway/anything").tier is None  # never routed to
    assert per_million("vllm/qwen3-32b") == (0, 0) and tier_of("vllm/qwen3-32b") == "medium"
    assert per_million("vllm/other") == (0, 0)
    with pytest.raises(UnknownModelError):
        price_of("paid/other")  # a paid provider's unpriced model is never $0
    cost, _, _ = cost_and_savings(
        Usage(input_tokens=1000, output_tokens=100), model="gateway/small",
        requested_model="gateway/big",
    )  # fmt: skip
    assert cost == Decimal("0.00014")


def test_an_entry_price_wins_over_the_catalog_and_a_tier_retiers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries(monkeypatch, [
        {"name": "cerebras", "models": {"gpt-oss-120b": {"input": "0.30", "output": "0.60"},
                                        "gemma-4-31b": {"tier": "medium"}}},
        {"name": "openrouter", "models": {"openai/gpt-5.4-mini": {"tier": "medium"}}},
    ])  # fmt: skip
    assert per_million("cerebras/gpt-oss-120b") == (Decimal("0.3"), Decimal("0.6"))
    gemma = price_of("cerebras/gemma-4-31b")
    assert gemma.tier == "medium" and gemma.input * MILLION == Decimal("0.99")
    assert "cerebras/gemma-4-31b" in {p.model for p in routable_models("cerebras", "medium", DAY)}
    assert tier_of("openrouter/openai/gpt-5.4-mini") == "medium"


def test_ollama_stays_free_unless_the_override_file_prices_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert per_million("ollama/llama3.2") == (0, 0)
    override = tmp_path / "prices.yaml"
    override.write_text(
        "models:\n  ollama/llama3.2:\n    provider: ollama\n    context_window: 128000\n"
        "    min_cacheable_tokens: 0\n    effective: 2026-01-01\n"
        "    prices: {standard: {input: '0.05', output: '0.10'}}\n"
    )
    monkeypatch.setenv(PRICING_FILE_ENV, str(override))
    reload_catalog()
    assert per_million("ollama/llama3.2") == (Decimal("0.05"), Decimal("0.1"))
    assert per_million("ollama/other") == (0, 0)


@pytest.mark.parametrize(
    ("listed", "problem"),
    [
        ([{"name": "gw", "base_url": "http://gw/v1", "models": {"m": {"tier": "small"}}}],
         "model 'gw/m', field 'models': provider 'gw' prices it nowhere"),
        ([{"name": "gw", "base_url": "http://gw/v1", "free": "maybe"}],
         "entry 0 ('gw'): field 'free': Input should be a valid boolean"),
    ],
)  # fmt: skip
def test_a_bad_entry_stops_the_catalog_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, listed: list[dict[str, Any]], problem: str
) -> None:
    monkeypatch.setenv(OPENAI_COMPATIBLE_ENV, json.dumps(listed))
    with pytest.raises(PricingConfigError) as raised:
        reload_catalog()
    assert str(raised.value).startswith(OPENAI_COMPATIBLE_ENV)
    assert problem in str(raised.value)


def test_a_model_nothing_prices_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from frugalflow.settings import load_settings
    from frugalflow.worker import run_worker

    listed = [{"name": "gw", "base_url": "http://gw/v1", "models": {"m": {"tier": "small"}}}]
    monkeypatch.setenv(OPENAI_COMPATIBLE_ENV, json.dumps(listed))
    with pytest.raises(PricingConfigError):
        reload_catalog()
    assert run_worker(load_settings()) == 2  # before it looks for Kafka
    assert "frugalflow: invalid pricing: FRUGALFLOW_OPENAI_COMPATIBLE" in capsys.readouterr().err


# ------------------------------------------------------------------ tiers and routing


def test_named_providers_route_by_tier() -> None:
    assert nearest_model("cerebras", "small") == ("small", "cerebras/gemma-4-31b")
    assert nearest_model("cerebras", "large") == ("medium", "cerebras/gpt-oss-120b")
    large = model_for_tier("openrouter", "large")
    assert large is not None and large.startswith("openrouter/")
    assert price_of(large).tier == "large"
    for tier in ("small", "medium", "large"):
        for price in routable_models("openrouter", tier, DAY):
            assert price.provider == "openrouter" and price.tier == tier
    # deprecated vendor models are priced but not routed to through the gateway either
    assert "openrouter/openai/gpt-5" in priced_models()
    assert not price_of("openrouter/openai/gpt-5").routable_on(DAY)


def test_alternates_offer_configured_named_providers_of_the_same_tier() -> None:
    found = alternates("anthropic", "claude-haiku-4-5", {"anthropic", "cerebras", "openrouter"})
    providers = [provider for provider, _ in found]
    assert providers[:2] == ["cerebras", "cerebras"]  # by provider name, cheapest first
    assert "openrouter/anthropic/claude-haiku-4-5" in {m for _, m in found}
    for provider, model in found:
        assert price_of(model).provider == provider and tier_of(model) == "small"
    assert alternates("anthropic", "claude-haiku-4-5", {"anthropic"}) == []


# ------------------------------------------------------------------ reported cost


def test_cost_mismatch_tolerance() -> None:
    assert tolerance(Decimal("0.00001")) == Decimal("0.000001")  # the absolute floor
    assert tolerance(Decimal("1")) == Decimal("0.01")  # 1 %
    assert not cost_mismatch(Decimal("0.000522"), Decimal("0.000522"))
    assert not cost_mismatch(Decimal("0.000522"), Decimal("0.0005225"))  # float rounding
    assert cost_mismatch(Decimal("0.000522"), Decimal("0.000783"))
    assert cost_mismatch(Decimal("2.00"), Decimal("2.03"))
    assert not cost_mismatch(Decimal("2.00"), Decimal("1.99"))
