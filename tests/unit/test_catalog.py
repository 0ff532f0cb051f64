"""The pricing catalog: complete entries, aliases, and the per-deployment override file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from frugalflow.costing.calculator import QUANTUM
from frugalflow.costing.catalog import (
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
from frugalflow.costing.rates import TOKEN_CLASSES, Rates

PROVIDERS = {"anthropic", "openai", "gemini", "cerebras"}
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
        # current models (issue 15): Opus 4.5-4.8, Sonnet 4.6, Haiku 4.5, GPT-5.1-5.6,
        # Gemini 2.5 Flash-Lite and the 3.x Flash, Flash-Lite and Pro models
        "claude-opus-4-6",
        "claude-opus-4-7",
        "claude-opus-4-8",
        "claude-sonnet-4-6",
        "gpt-5.1",
        "gpt-5.2",
        "gpt-5.4",
        "gpt-5.4-mini",
        "gpt-5.4-nano",
        "gpt-5.5",
        "gpt-5.6",
        "gpt-5.6-luna",
        "gpt-5.6-sol",
        "gpt-5.6-terra",
        "gemini-3-flash-preview",
        "gemini-3.1-flash-lite",
        "gemini-3.1-pro-preview",
        "gemini-3.5-flash",
        "gemini-3.5-flash-lite",
        # Cerebras (issue 15, part 7): its current models, addressed cerebras/<id>
        "cerebras/gpt-oss-120b",
        "cerebras/qwen-3.8-27b",
        "cerebras/gemma-4-31b",
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


def _all_rates(price: ModelPrice) -> list[tuple[str, Rates]]:
    found = [(mode, rates) for mode, rates in price.modes.items()]
    if price.long_context is not None:
        found += [(f"long {mode}", r) for mode, r in price.long_context.modes.items()]
    return found


@pytest.mark.parametrize("model", sorted(catalog()))
def test_every_model_is_complete_and_sane(model: str) -> None:
    price = catalog()[model]
    assert price.model == model
    assert price.provider in PROVIDERS
    assert "standard" in price.modes
    assert price.routable is not None
    for where, r in _all_rates(price):
        assert r.input > 0 and r.output > 0, where
        assert 0 < r.cache_read <= r.input, where
        assert r.cache_write_5m >= r.input, where
        assert r.cache_write_1h >= r.cache_write_5m, where
        assert r.cache_write_extended >= r.cache_write_1h, where
    assert price.min_cacheable_tokens > 0
    # Cerebras serves some models with a shorter window (Qwen 3.8: 64k)
    assert price.context_window >= (65_536 if price.provider == "cerebras" else 128_000)
    assert date(2024, 1, 1) <= price.effective <= date.today()
    assert price.note, "every entry says where its figures come from"


@pytest.mark.parametrize("model", sorted(m for m, p in catalog().items() if p.long_context))
def test_long_context_rates_are_never_below_the_short_ones(model: str) -> None:
    # Budgets reserve at the band of an over-estimated prompt: that is only safe when the
    # long band is never cheaper, class by class.
    price = catalog()[model]
    assert price.long_context is not None
    assert price.long_context.above_tokens in (200_000, 272_000)
    for mode, long in price.long_context.modes.items():
        short = price.modes[mode]
        for cls in TOKEN_CLASSES:
            assert long.of(cls) >= short.of(cls), (mode, cls)


@pytest.mark.parametrize("model", sorted(catalog()))
def test_anthropic_cache_write_conventions(model: str) -> None:
    p = catalog()[model]
    for where, r in _all_rates(p):
        if p.provider == "anthropic":
            assert r.cache_write_5m == r.input * Decimal("1.25"), where
            assert r.cache_write_1h == r.input * 2, where
        elif not p.model.startswith(("gpt-5.6", "gpt-6")):
            # no write surcharge, whatever the TTL (the 5.6 and 6 families list one)
            assert r.cache_write_5m == r.cache_write_1h == r.input, where


@pytest.mark.parametrize("model", sorted(catalog()))
def test_calculator_quantum_is_exact_for_every_price(model: str) -> None:
    for where, r in _all_rates(catalog()[model]):
        for cls in TOKEN_CLASSES:
            assert r.of(cls) == r.of(cls).quantize(QUANTUM), (model, where, cls)


def test_context_bands_are_modelled() -> None:
    pro = price_of("gemini-2.5-pro")
    assert pro.long_context is not None and pro.long_context.above_tokens == 200_000
    assert pro.rates("standard", 200_001).input * MILLION == Decimal("2.5")
    assert price_of("gpt-5.4").rates("flex", 272_001).output * MILLION == Decimal("11.25")


# ------------------------------------------------------------------ life cycle


def test_retired_models_stay_priced_and_name_a_successor() -> None:
    sonnet = price_of("claude-sonnet-4-5")
    assert sonnet.retires == date(2026, 11, 30)
    assert sonnet.successor == "claude-sonnet-4-6"
    assert sonnet.deprecated is not None and sonnet.deprecated <= sonnet.retires
    assert sonnet.status_on(date(2026, 11, 30)) == "retired"
    assert price_of("gpt-5").status_on(date(2026, 12, 4)) == "deprecated"
    assert sonnet.input * MILLION == 3
    for model in ("gemini-2.5-pro", "gemini-2.5-flash"):
        assert price_of(model).retires == date(2026, 12, 1)
    for model in ("gpt-5", "gpt-5-mini", "gpt-5-nano"):
        assert price_of(model).retires == date(2026, 12, 11)
    assert price_of("claude-sonnet-4-6").status_on(date(2026, 12, 4)) == "active"


@pytest.mark.parametrize("model", sorted(m for m, p in catalog().items() if p.retires))
def test_every_retiring_model_has_a_living_successor(model: str) -> None:
    price = catalog()[model]
    assert price.deprecated is not None and price.deprecated <= price.retires
    assert price.successor, f"{model} retires on {price.retires} and names no successor"
    successor = catalog()[price.successor]
    assert successor.provider == price.provider
    assert successor.status_on(price.retires) != "retired"


def test_the_router_only_sees_models_before_their_deprecation() -> None:
    sonnet = price_of("claude-sonnet-4-5")
    assert sonnet.deprecated is not None
    assert sonnet.routable_on(sonnet.deprecated - timedelta(days=1))
    assert not sonnet.routable_on(sonnet.deprecated)
    assert not price_of("claude-fable-5").tier  # priced, never routed to


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
    assert canonical_model("gpt-4o-2024-05-13") == "gpt-4o-2024-05-13"
    assert price_of("gpt-4o-2024-05-13").input * MILLION == 5


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
    from frugalflow.costing.calculator import cost_and_savings
    from frugalflow.providers.base import Usage

    price = price_of("ollama/llama3.2")
    assert price.provider == "ollama"
    cost, baseline, _ = cost_and_savings(
        Usage(input_tokens=1000, output_tokens=500), model="ollama/llama3.2",
        requested_model="ollama/llama3.2", mode="standard",
    )  # fmt: skip
    assert cost == baseline == 0
    with pytest.raises(UnknownModelError):
        price_of("ollama/")


MODES_ENTRY = """
    provider: openai
    min_cacheable_tokens: 1024
    context_window: 400000
    effective: 2026-01-01
    prices:
      standard: {input: "2.00", output: "8.00", cache_read: "0.20"}
      batch: {input: "1.00", output: "4.00"}
    long_context:
      above_tokens: 272000
      prices:
        standard: {input: "4.00", output: "12.00", cache_read: "0.40"}
        batch: {input: "2.00", output: "6.00"}
"""


def test_override_in_the_modes_shape(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", _doc("acme-llm", MODES_ENTRY))
    price = reload_catalog()["acme-llm"]
    assert set(price.modes) == {"standard", "batch"}
    assert price.rates("batch").cache_read == price.rates("batch").input  # falls back to input
    assert price.rates("standard").cache_write_1h == price.input  # 1h -> 5m -> input
    assert price.rates("batch", 272_001).output * MILLION == 6


def test_legacy_override_bills_its_batch_discount_on_every_class(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", _doc("acme-llm"))
    price = reload_catalog()["acme-llm"]
    assert price.rates("batch").cache_write_1h * MILLION == Decimal("2.40")
    assert price.rates("batch").cache_read * MILLION == Decimal("0.12")


def test_override_keeps_the_packaged_life_cycle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", _doc("gpt-5", MODES_ENTRY))
    price = reload_catalog()["gpt-5"]
    assert price.retires == date(2026, 12, 11) and price.successor == "gpt-5.4"
    assert price.input * MILLION == 2


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        (MODES_ENTRY.replace("      batch: {", "      turbo: {", 1), "prices.turbo", "mode"),
        (
            MODES_ENTRY.replace('cache_read: "0.20"', 'cache_reed: "0.2"'),
            "standard.cache_reed",
            "unknown token class",
        ),
        (
            MODES_ENTRY.replace('      standard: {input: "2.00", ', "      standard: {", 1),
            "prices.standard.input",
            "missing price",
        ),
        (
            MODES_ENTRY.replace('        batch: {input: "2.00", output: "6.00"}\n', ""),
            "long_context.prices",
            "same modes",
        ),
        (
            MODES_ENTRY + "    deprecated: 2026-06-01\n    retires: 2026-05-01\n",
            "retires",
            "before 'deprecated'",
        ),
    ],
)
def test_malformed_modes_entry_names_the_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entry: str, field: str, problem: str
) -> None:
    _use_override(monkeypatch, tmp_path / "prices.yaml", _doc("acme-llm", entry))
    with pytest.raises(PricingConfigError, match=problem) as info:
        reload_catalog()
    assert info.value.field is not None and info.value.field.endswith(field)
