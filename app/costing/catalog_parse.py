"""Validate one pricing document (``catalog.yaml`` or an override file) into ``ModelPrice``.

Entry shape (prices in USD per million tokens, as strings so they load as exact Decimals)::

    gpt-5.4:
      provider: openai
      tier: large                      # optional: small | medium | large
      context_window: 1050000
      min_cacheable_tokens: 1024
      effective: 2026-03-05            # the date the prices were published
      aliases: [gpt-5.4-2026-03-05]    # optional
      deprecated: 2026-12-04           # optional: the router stops choosing it
      retires: 2027-06-01              # optional: requests for it are rejected
      successor: gpt-5.5               # optional: named in alerts and rejections
      routable: false                  # optional: never chosen by the router
      note: ...                        # optional
      prices:                          # standard is required, the other modes optional
        standard: {input: "2.50", output: "15.00", cache_read: "0.25"}
        batch:    {input: "1.25", output: "7.50", cache_read: "0.13"}
        flex:     {...}
        priority: {...}
      long_context:                    # optional: whole request above the threshold
        above_tokens: 272000
        prices: {standard: {...}, batch: {...}}   # every mode of ``prices``

Classes per mode: ``input`` and ``output`` required; ``cache_write_5m``,
``cache_write_1h``, ``cache_write_extended`` and ``cache_read`` optional, falling back as
app/costing/rates.py says.

The shape before service modes (``input: … batch_discount: "0.50"`` at the top of the
entry) is still read: its standard prices are the five listed classes and its batch
prices those times ``1 - batch_discount``, as they were billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import yaml

try:  # libyaml's loader: the catalog parses in milliseconds, not tenths of a second
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

from frugalflow.costing.rates import (
    MODES,
    REQUIRED_CLASSES,
    TOKEN_CLASSES,
    LongContext,
    Mode,
    ModelPrice,
    Rates,
)
from frugalflow.policy.models import TIERS, Tier

REQUIRED_FIELDS = ("provider", "prices", "min_cacheable_tokens", "context_window", "effective")
OPTIONAL_FIELDS = (
    "aliases", "note", "tier", "routable", "long_context", "deprecated", "retires", "successor",
)  # fmt: skip
LEGACY_PRICE_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


class PricingConfigError(ValueError):
    """A pricing file (packaged or override) has a malformed entry."""

    def __init__(self, source: str, model: str | None, field: str | None, problem: str) -> None:
        where = source
        if model is not None:
            where += f": model {model!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.model = model
        self.field = field


def _decimal(source: str, model: str, field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PricingConfigError(source, model, field, f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PricingConfigError(source, model, field, f"not a number: {value!r}") from None
    if not number.is_finite():
        raise PricingConfigError(source, model, field, f"not a finite number: {value!r}")
    return number


def _int(source: str, model: str, field: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingConfigError(source, model, field, f"expected an integer, got {value!r}")
    if value < minimum:
        raise PricingConfigError(source, model, field, f"must be >= {minimum}, got {value}")
    return value


def _date(source: str, model: str, field: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PricingConfigError(source, model, field, f"expected a date YYYY-MM-DD, got {value!r}")


def _optional_date(source: str, model: str, raw: Mapping[str, Any], field: str) -> date | None:
    value = raw.get(field)
    return None if value is None else _date(source, model, field, value)


def _rates(source: str, model: str, where: str, raw: Any) -> Rates:
    if not isinstance(raw, Mapping):
        raise PricingConfigError(source, model, where, "expected a mapping of token classes")
    unknown = sorted(str(k) for k in raw if k not in TOKEN_CLASSES)
    if unknown:
        raise PricingConfigError(source, model, f"{where}.{unknown[0]}", "unknown token class")
    listed: dict[str, Decimal] = {}
    for name in TOKEN_CLASSES:
        if name not in raw:
            if name in REQUIRED_CLASSES:
                raise PricingConfigError(source, model, f"{where}.{name}", "missing price")
            continue
        value = _decimal(source, model, f"{where}.{name}", raw[name])
        if value < 0:
            raise PricingConfigError(
                source, model, f"{where}.{name}", f"price must be >= 0, got {value}"
            )
        listed[name] = value
    return Rates.per_million(listed)


def _modes(source: str, model: str, where: str, raw: Any) -> dict[Mode, Rates]:
    if not isinstance(raw, Mapping):
        raise PricingConfigError(source, model, where, "expected a mapping of service modes")
    unknown = sorted(str(k) for k in raw if k not in MODES)
    if unknown:
        raise PricingConfigError(
            source, model, f"{where}.{unknown[0]}", f"unknown service mode (one of {MODES})"
        )
    return {
        cast(Mode, mode): _rates(source, model, f"{where}.{mode}", raw[mode])
        for mode in MODES
        if mode in raw
    }


def _long_context(
    source: str, model: str, raw: Any, modes: Mapping[Mode, Rates]
) -> LongContext | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"above_tokens", "prices"}:
        raise PricingConfigError(
            source, model, "long_context", "expected exactly 'above_tokens' and 'prices'"
        )
    above = _int(source, model, "long_context.above_tokens", raw["above_tokens"], 1)
    long_modes = _modes(source, model, "long_context.prices", raw["prices"])
    if set(long_modes) != set(modes):
        raise PricingConfigError(
            source, model, "long_context.prices",
            f"must price the same modes as 'prices' ({', '.join(modes)}), "
            f"got {', '.join(long_modes) or 'none'}",
        )  # fmt: skip
    return LongContext(above_tokens=above, modes=long_modes)


def _legacy(source: str, model: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """An entry in the shape before service modes, rewritten with a ``prices`` mapping."""
    discount = _decimal(source, model, "batch_discount", raw["batch_discount"])
    if not 0 <= discount < 1:
        raise PricingConfigError(
            source, model, "batch_discount", f"must be in [0, 1), got {discount}"
        )
    standard: dict[str, Decimal] = {}
    for field in LEGACY_PRICE_FIELDS:
        if field not in raw:
            raise PricingConfigError(source, model, field, "missing required field")
        standard[field] = _decimal(source, model, field, raw[field])
        if standard[field] < 0:
            raise PricingConfigError(
                source, model, field, f"price must be >= 0, got {standard[field]}"
            )
    rest = {k: v for k, v in raw.items() if k not in (*LEGACY_PRICE_FIELDS, "batch_discount")}
    prices: dict[str, Any] = {"standard": {k: str(v) for k, v in standard.items()}}
    if discount:
        prices["batch"] = {k: str(v * (1 - discount)) for k, v in standard.items()}
    return {**rest, "prices": prices}


def parse_entry(source: str, model: str, raw: Any) -> ModelPrice:
    if not isinstance(raw, Mapping):
        raise PricingConfigError(source, model, None, "entry must be a mapping of fields")
    if "batch_discount" in raw and "prices" not in raw:
        raw = _legacy(source, model, raw)
    missing = [f for f in REQUIRED_FIELDS if f not in raw]
    if missing:
        raise PricingConfigError(source, model, missing[0], "missing required field")
    unknown = sorted(str(f) for f in raw if f not in REQUIRED_FIELDS + OPTIONAL_FIELDS)
    if unknown:
        raise PricingConfigError(source, model, unknown[0], "unknown field")

    provider = raw["provider"]
    if not isinstance(provider, str) or not provider.strip():
        raise PricingConfigError(source, model, "provider", "expected a non-empty string")
    modes = _modes(source, model, "prices", raw["prices"])
    if "standard" not in modes:
        raise PricingConfigError(source, model, "prices.standard", "missing: every model has it")

    aliases_raw = raw.get("aliases") or []
    if not isinstance(aliases_raw, list) or not all(
        isinstance(a, str) and a.strip() for a in aliases_raw
    ):
        raise PricingConfigError(source, model, "aliases", "expected a list of model ids")
    for field in ("note", "successor"):
        value = raw.get(field)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise PricingConfigError(source, model, field, "expected a non-empty string")
    tier = raw.get("tier")
    if tier is not None and tier not in TIERS:
        raise PricingConfigError(source, model, "tier", f"expected one of {TIERS}, got {tier!r}")
    routable = raw.get("routable")
    if routable is not None and not isinstance(routable, bool):
        raise PricingConfigError(
            source, model, "routable", f"expected true or false, got {routable!r}"
        )
    deprecated = _optional_date(source, model, raw, "deprecated")
    retires = _optional_date(source, model, raw, "retires")
    if deprecated and retires and retires < deprecated:
        raise PricingConfigError(source, model, "retires", "must not be before 'deprecated'")

    note, successor = raw.get("note"), raw.get("successor")
    return ModelPrice(
        model=model,
        provider=provider.strip(),
        modes=modes,
        min_cacheable_tokens=_int(
            source, model, "min_cacheable_tokens", raw["min_cacheable_tokens"], 0
        ),
        context_window=_int(source, model, "context_window", raw["context_window"], 1),
        effective=_date(source, model, "effective", raw["effective"]),
        long_context=_long_context(source, model, raw.get("long_context"), modes),
        aliases=tuple(a.strip() for a in aliases_raw),
        note=note.strip() if note else None,
        tier=cast(Tier | None, tier),
        routable=routable,
        deprecated=deprecated,
        retires=retires,
        successor=successor.strip() if successor else None,
    )


def parse_pricing(text: str, source: str) -> dict[str, ModelPrice]:
    """Validate one pricing document (``models: {id: entry}``) into prices per model."""
    try:
        doc = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise PricingConfigError(source, None, None, f"not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("models"), Mapping):
        raise PricingConfigError(source, None, "models", "expected a top-level 'models' mapping")
    return {
        str(name): parse_entry(source, str(name), entry) for name, entry in doc["models"].items()
    }
