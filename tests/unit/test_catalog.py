"""The pricing catalog: complete entries, aliases, and the per-deployment override file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.costing.calculator import QUANTUM
from app.costing.catalog import (
    PRICING_FILE_ENV,
    ModelPrice,
    PricingConfigError,
    UnknownModelError,
    aliases,
    canonical_model,
    catalog,
    price_of,
    reload_catalog,
)

PROVIDERS = {"anthropic", "openai", "gemini"}
ORIGINAL_IDS = {"claude-haiku-4-5", "claude-sonnet-4-5", "gpt-4o-mini", "gpt-4o"}
MILLION = Decimal(1_000_000)


@pytest.fixture(autouse=True)
def _packaged_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends on the packaged catalog alone."""
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()


def _use_override(monkeypatch: pytest.MonkeyPatch, path: Path, text: str) -> None:
    path.write_text(text)
    monkeypatch.setenv(PRICING_FILE_ENV, str(path))


ENTRY = """
    provider: anthropic
    input: "2.40"
    output: "12.00"
    cache_write_5m: "3.00"
    cache_write_1h: "4.80"
    cache_read: "0.24"
    batch_discount: "0.50"
    min_cacheable_tokens: 1024
    context_window: 200000
    effective: 2026-01-01
"""


def _doc(model: str, entry: str = ENTRY) -> str:
    return f"models:\n  {model}:{entry}"


# ------------------------------------------------------------------ packaged catalog


def test_catalog_covers_every_provider_and_keeps_the_original_ids() -> None:
    models = catalog()
    assert models.keys() >= ORIGINAL_IDS
    assert {p.provider for p in models.values()} == PROVIDERS
    for expected in (
        "claude-opus-4-5",
        "claude-opus-4-1",
        "claude-opus-4",
        "claude-sonnet-4",
        "claude-3-5-haiku",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
    ):
        assert expected in models


def test_original_prices_are_unchanged() -> None:
    per_million = {
        m: (price_of(m).input * MILLION, price_of(m).output * MILLION) for m in ORIGINAL_IDS
    }
    assert per_million == {
        "claude-haiku-4-5": (Decimal("1"), Decimal("5")),
        "claude-sonnet-4-5": (Decimal("3"), Decimal("15")),
        "gpt-4o-mini": (Decimal("0.15"), Decimal("0.6")),
        "gpt-4o": (Decimal("2.5"), Decimal("10")),
    }


@pytest.mark.parametrize("model", sorted(catalog()))
def test_every_model_is_complete_and_sane(model: str) -> None:
    price = catalog()[model]
    for f in fields(ModelPrice):
        if f.name not in ("aliases", "note"):
            assert getattr(price, f.name) is not None, f.name
    assert price.model == model
    assert price.provider in PROVIDERS
    for value in (price.input, price.output, price.cache_write_5m, price.cache_write_1h):
        assert value > 0
    assert 0 < price.cache_read < price.input
    assert price.cache_write_5m >= price.input
    assert price.cache_write_1h >= price.cache_write_5m
    assert price.batch_discount == Decimal("0.50")
    assert price.min_cacheable_tokens > 0
    assert price.context_window >= 128_000
    assert date(2024, 1, 1) <= price.effective <= date.today()


@pytest.mark.parametrize("model", sorted(catalog()))
def test_provider_cache_conventions(model: str) -> None:
    p = catalog()[model]
    if p.provider == "anthropic":
        assert p.cache_write_5m == p.input * Decimal("1.25")
        assert p.cache_write_1h == p.input * 2
        assert p.cache_read == p.input / 10
    else:  # OpenAI and Gemini: no write surcharge, whatever the TTL
        assert p.cache_write_5m == p.cache_write_1h == p.input


@pytest.mark.parametrize("model", sorted(catalog()))
def test_calculator_quantum_is_exact_for_every_price(model: str) -> None:
    p = catalog()[model]
    for per_token in (p.input, p.output, p.cache_write_5m, p.cache_write_1h, p.cache_read):
        for value in (per_token, per_token * (1 - p.batch_discount)):
            assert value == value.quantize(QUANTUM), (model, value)


def test_gemini_pro_says_only_the_low_tier_is_modelled() -> None:
    note = price_of("gemini-2.5-pro").note
    assert note is not None and "200k" in note


# ------------------------------------------------------------------ aliases


@pytest.mark.parametrize(
    ("alias", "model"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-5-2025-08-07", "gpt-5"),
    ],
)
def test_aliases_resolve_to_the_canonical_price(alias: str, model: str) -> None:
    assert canonical_model(alias) == model
    assert price_of(alias) is price_of(model)
    assert price_of(alias).model == model


def test_old_gpt_4o_snapshot_is_not_an_alias() -> None:
    # gpt-4o-2024-05-13 bills $5 / $15: pricing it as gpt-4o would be wrong.
    with pytest.raises(UnknownModelError):
        price_of("gpt-4o-2024-05-13")


def test_no_alias_shadows_a_model() -> None:
    assert not aliases().keys() & catalog().keys()


def test_unknown_model_raises() -> None:
    with pytest.raises(UnknownModelError, match="'gpt-imaginary' is not in the pricing catalog"):
        price_of("gpt-imaginary")


# ------------------------------------------------------------------ override file


def test_override_replaces_a_price_and_adds_a_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = f"models:\n  claude-sonnet-4-5:{ENTRY}  acme-finetune:{ENTRY}"
    _use_override(monkeypatch, tmp_path / "prices.yaml", text)
    models = reload_catalog()

    sonnet = models["claude-sonnet-4-5"]
    assert sonnet.input * MILLION == Decimal("2.40")
    assert sonnet.cache_read * MILLION == Decimal("0.24")
    assert sonnet.effective == date(2026, 1, 1)
    # the packaged snapshot alias still points at the (now negotiated) model
    assert price_of("claude-sonnet-4-5-20250929") is sonnet
    assert models["acme-finetune"].output * MILLION == Decimal("12")
    # everything else is untouched
    assert models["gpt-4o"].input * MILLION == Decimal("2.5")


def test_override_may_add_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _use_override(
        monkeypatch,
        tmp_path / "prices.yaml",
        _doc("acme-llm", ENTRY + "    aliases: [acme-llm-2026-01-01]\n"),
    )
    reload_catalog()
    assert price_of("acme-llm-2026-01-01").model == "acme-llm"


def test_override_is_only_read_on_reload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", _doc("acme-llm"))
    with pytest.raises(UnknownModelError):
        price_of("acme-llm")  # the cached catalog predates the env var
    reload_catalog()
    assert price_of("acme-llm").provider == "anthropic"


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        (ENTRY.replace('input: "2.40"', 'input: "-1"'), "input", "must be >= 0"),
        (ENTRY.replace('cache_read: "0.24"', 'cache_read: "cheap"'), "cache_read", "not a number"),
        (ENTRY.replace('    output: "12.00"\n', ""), "output", "missing required field"),
        (ENTRY.replace("    effective: 2026-01-01\n", ""), "effective", "missing required"),
        (
            ENTRY.replace('batch_discount: "0.50"', 'batch_discount: "1"'),
            "batch_discount",
            r"\[0, 1\)",
        ),
        (
            ENTRY.replace('batch_discount: "0.50"', 'batch_discount: "-0.1"'),
            "batch_discount",
            r"\[0, 1\)",
        ),
        (
            ENTRY.replace("context_window: 200000", "context_window: big"),
            "context_window",
            "integer",
        ),
        (ENTRY.replace("effective: 2026-01-01", "effective: soon"), "effective", "YYYY-MM-DD"),
        (ENTRY + '    cache_reed: "0.1"\n', "cache_reed", "unknown field"),
        (ENTRY.replace("provider: anthropic", 'provider: ""'), "provider", "non-empty"),
    ],
)
def test_malformed_override_names_the_model_and_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entry: str, field: str, problem: str
) -> None:
    path = tmp_path / "prices.yaml"
    _use_override(monkeypatch, path, _doc("acme-llm", entry))
    with pytest.raises(PricingConfigError, match=problem) as info:
        reload_catalog()
    message = str(info.value)
    assert str(path) in message
    assert "model 'acme-llm'" in message
    assert f"field {field!r}" in message
    assert info.value.model == "acme-llm"
    assert info.value.field == field


def test_override_file_must_have_a_models_mapping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", "claude-sonnet-4-5:\n  input: 1\n")
    with pytest.raises(PricingConfigError, match="top-level 'models' mapping"):
        reload_catalog()


def test_missing_override_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(PRICING_FILE_ENV, str(tmp_path / "absent.yaml"))
    with pytest.raises(PricingConfigError, match=f"{PRICING_FILE_ENV} cannot be read"):
        reload_catalog()


def test_override_alias_cannot_steal_another_models_alias(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_override(
        monkeypatch,
        tmp_path / "prices.yaml",
        _doc("acme-llm", ENTRY + "    aliases: [gpt-4o-2024-08-06]\n"),
    )
    with pytest.raises(PricingConfigError, match="already points at 'gpt-4o'"):
        reload_catalog()


def test_local_models_cost_nothing_unless_priced() -> None:
    from app.costing.calculator import cost_and_savings
    from app.providers.base import Usage

    price = price_of("ollama/llama3.2")
    assert price.provider == "ollama"
    cost, baseline, _ = cost_and_savings(
        Usage(input_tokens=1000, output_tokens=500), model="ollama/llama3.2",
        requested_model="ollama/llama3.2", batch=False,
    )  # fmt: skip
    assert cost == baseline == 0
    with pytest.raises(UnknownModelError):
        price_of("ollama/")
