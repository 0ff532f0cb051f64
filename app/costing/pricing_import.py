"""A catalog entry written from one LiteLLM table entry (``frugalflow pricing import``).

The table is taken as it is, with two gaps filled by the providers' own rules and each
fill named in the entry's ``note``:

* Anthropic's batch discount applies to every token class, 1-hour cache writes included,
  but the table lists no batch price for them: it is the standard 1-hour price times
  the batch input's share of the standard input;
* a service mode priced for short prompts but not above the long-context threshold is
  given the long band's increase over short prompts, class by class, as the standard
  mode has it (the providers apply the same multiplier in every mode).

A mode is offered when the table prices both its input and its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from frugalflow.costing.litellm import PriceKey, int_field, token_prices
from frugalflow.costing.rates import MODES, TOKEN_CLASSES, Mode, TokenClass

DEFAULT_MIN_CACHEABLE = {"anthropic": 1024, "openai": 1024, "gemini": 1024}

ClassPrices = dict[TokenClass, Decimal]


class PricingImportError(ValueError):
    """The table entry cannot become a catalog entry (says why)."""


def money(value: Decimal) -> str:
    """A per-million price as the shortest exact decimal string, at least two places."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _by_mode(prices: Mapping[PriceKey, Decimal], band: int | None) -> dict[Mode, ClassPrices]:
    found: dict[Mode, ClassPrices] = {}
    for key, value in prices.items():
        if key.band == band:
            found.setdefault(key.mode, {})[key.token_class] = value
    return {m: c for m, c in found.items() if "input" in c and "output" in c}


def _fill_anthropic_batch(modes: dict[Mode, ClassPrices], filled: list[str], where: str) -> None:
    standard, batch = modes.get("standard"), modes.get("batch")
    if not standard or not batch or "cache_write_1h" in batch or "cache_write_1h" not in standard:
        return
    batch["cache_write_1h"] = standard["cache_write_1h"] * batch["input"] / standard["input"]
    filled.append(f"{where}batch 1-hour cache write")


def _fill_long_modes(
    short: dict[Mode, ClassPrices], long: dict[Mode, ClassPrices], filled: list[str]
) -> None:
    base, base_long = short["standard"], long["standard"]
    for mode in short:
        if mode in long:
            continue
        scaled: ClassPrices = {}
        for cls, value in short[mode].items():
            if cls in base and cls in base_long and base[cls]:
                scaled[cls] = value * base_long[cls] / base[cls]
        long[mode] = scaled
        filled.append(f"{mode} above the threshold")


def _prices_doc(modes: Mapping[Mode, ClassPrices]) -> dict[str, dict[str, str]]:
    return {
        mode: {cls: money(modes[mode][cls]) for cls in TOKEN_CLASSES if cls in modes[mode]}
        for mode in MODES
        if mode in modes
    }


def catalog_entry(
    provider: str, model: str, entry: Mapping[str, Any], *, effective: date, source: str
) -> dict[str, Any]:
    """The catalog entry (YAML-ready mapping) for ``model`` from its LiteLLM entry."""
    prices = token_prices(entry)
    short = _by_mode(prices, None)
    if "standard" not in short:
        raise PricingImportError(f"{model}: the table has no standard input and output price")
    bands = sorted({k.band for k in prices if k.band is not None})
    if len(bands) > 1:
        raise PricingImportError(f"{model}: several context bands ({bands}); one is supported")
    filled: list[str] = []
    if provider == "anthropic":
        _fill_anthropic_batch(short, filled, "")
    doc: dict[str, Any] = {
        "provider": provider,
        "context_window": int_field(entry, "max_input_tokens") or 1,
        "min_cacheable_tokens": int_field(entry, "prompt_cache_min_tokens")
        or DEFAULT_MIN_CACHEABLE.get(provider, 1024),
        "effective": effective.isoformat(),
        "prices": _prices_doc(short),
    }
    if bands:
        long = _by_mode(prices, bands[0])
        if "standard" not in long:
            raise PricingImportError(f"{model}: the long-context band has no standard price")
        long = {m: c for m, c in long.items() if m in short}
        _fill_long_modes(short, long, filled)
        if provider == "anthropic":
            _fill_anthropic_batch(long, filled, "above the threshold, ")
        doc["long_context"] = {"above_tokens": bands[0], "prices": _prices_doc(long)}
    retires = entry.get("deprecation_date")
    if isinstance(retires, str) and retires:
        doc["retires"] = retires
    note = f"Prices from {source}."
    if filled:
        note += " Not in the table, filled by the provider's rule: " + "; ".join(filled) + "."
    doc["note"] = note
    return doc
