"""Compare the loaded catalog with a LiteLLM price table (``frugalflow pricing check``).

The packaged catalog is written from one LiteLLM release; providers change prices, add
models and announce shutdowns after it. The check says where the catalog and a (later)
table disagree, as findings:

* ``not_in_table``: a catalog model the table does not list for its provider. Explained
  when the model is retired on the check date (tables drop retired models);
* ``not_in_catalog``: a chat/responses model of a provider we call that is neither a
  catalog model nor an alias. Explained when it matches a pattern of
  ``not_carried.yaml`` (package data: ``- {pattern: <fnmatch glob>, reason: <text>}``,
  the first matching pattern gives the reason), which makes every model the catalog
  leaves out a written decision;
* ``price``: a price the table publishes (per service mode, context band and token
  class, for the model and each alias the table lists) that differs from what the
  calculator would bill, a context band the other side does not have, or a mode the
  table prices that the catalog does not offer. Never explained: the catalog must equal
  the table, and a negotiated override legitimately shows here;
* ``only_here``: a mode the catalog offers that the table lists no price for (e.g. one
  filled by the provider's rule on import). Informational, so always explained;
* ``context_window``: the table's ``max_input_tokens`` differs from ``context_window``;
* ``retirement``: the table's ``deprecation_date`` (the provider's shutdown date)
  differs from ``retires``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any, Literal, get_args

import yaml

from frugalflow.costing.catalog_parse import PricingConfigError
from frugalflow.costing.litellm import (
    PROVIDER_KEYS,
    PriceTableError,
    entry_for,
    int_field,
    table_key,
    text_models,
    token_prices,
)
from frugalflow.costing.pricing_import import money
from frugalflow.costing.rates import MODES, PER_TOKEN, TOKEN_CLASSES, Mode, ModelPrice, TokenClass

FindingKind = Literal[
    "not_in_table", "not_in_catalog", "price", "only_here", "context_window", "retirement"
]
KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
KIND_TITLES: dict[FindingKind, str] = {
    "not_in_table": "Catalog models the table does not list",
    "not_in_catalog": "Table models the catalog does not carry",
    "price": "Price differences",
    "only_here": "Modes priced only in the catalog (informational)",
    "context_window": "Context window differences (table max_input_tokens)",
    "retirement": "Shutdown date differences (table deprecation_date vs catalog retires)",
}
NOT_CARRIED_FILE = "not_carried.yaml"
ONLY_HERE_REASON = (
    "informational: priced here only (an import fills such a mode by the provider's rule, "
    "as the entry's note says)"
)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    model: str  # the catalog model; for ``not_in_catalog`` the table's model id
    detail: str
    explained: bool = False
    reason: str | None = None  # why an explained finding needs no action


@dataclass(frozen=True, slots=True)
class NotCarried:
    """Table models matching ``pattern`` are left out of the catalog on purpose."""

    pattern: str
    reason: str


def parse_not_carried(text: str, source: str) -> tuple[NotCarried, ...]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PricingConfigError(source, None, None, f"not valid YAML: {exc}") from None
    if not isinstance(doc, list):
        raise PricingConfigError(source, None, None, "expected a list of {pattern, reason}")
    rules = []
    for number, item in enumerate(doc, start=1):
        if (
            not isinstance(item, Mapping)
            or set(item) != {"pattern", "reason"}
            or not all(isinstance(v, str) and v.strip() for v in item.values())
        ):
            raise PricingConfigError(
                source, None, f"item {number}", "expected non-empty 'pattern' and 'reason'"
            )
        rules.append(NotCarried(item["pattern"].strip(), " ".join(item["reason"].split())))
    return tuple(rules)


def load_not_carried() -> tuple[NotCarried, ...]:
    """The packaged list of table models the catalog leaves out, with the reasons."""
    text = resources.files("frugalflow.costing").joinpath(NOT_CARRIED_FILE).read_text()
    return parse_not_carried(text, NOT_CARRIED_FILE)


def not_carried_reason(model: str, rules: tuple[NotCarried, ...]) -> str | None:
    for rule in rules:
        if fnmatch.fnmatchcase(model, rule.pattern):
            return rule.reason
    return None


def check_pricing(
    table: Mapping[str, Mapping[str, Any]],
    models: Mapping[str, ModelPrice],
    *,
    day: date,
    not_carried: tuple[NotCarried, ...] | None = None,
    source: str = "price table",
) -> list[Finding]:
    """Every difference between ``models`` (the catalog) and ``table`` on ``day``."""
    if not text_models(table):
        raise PriceTableError(
            f"{source}: no chat model of anthropic, openai or gemini: not a LiteLLM price table"
        )
    rules = load_not_carried() if not_carried is None else not_carried
    found: list[Finding] = []
    for price in models.values():
        found += _model_findings(table, price, day)
    carried = {(p.provider, name) for p in models.values() for name in (p.model, *p.aliases)}
    for (provider, model), key in sorted(text_models(table).items()):
        if (provider, model) in carried:
            continue
        reason = not_carried_reason(model, rules)
        detail = f"{provider}: the table lists {key!r} ({table[key].get('mode')})"
        found.append(Finding("not_in_catalog", model, detail, reason is not None, reason))
    return found


def unexplained(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.explained]


def _model_findings(
    table: Mapping[str, Mapping[str, Any]], price: ModelPrice, day: date
) -> list[Finding]:
    if price.provider not in PROVIDER_KEYS:
        only = f"the check reads only {', '.join(PROVIDER_KEYS)} entries"
        detail = f"provider {price.provider!r} is not compared"
        return [Finding("not_in_table", price.model, detail, True, only)]
    found: list[Finding] = []
    if entry_for(table, price.provider, price.model) is None:
        detail = f"no {price.provider} entry {table_key(price.provider, price.model)!r}"
        retired = price.status_on(day) == "retired"
        reason = f"retired on {price.retires} (tables drop retired models)" if retired else None
        found.append(Finding("not_in_table", price.model, detail, retired, reason))
    for name in (price.model, *price.aliases):
        entry = entry_for(table, price.provider, name)
        if entry is None:
            continue
        where = "" if name == price.model else f"alias {name}: "
        found += _price_findings(price, where, entry)
        found += _life_findings(price, where, entry)
    return found


def _price_findings(price: ModelPrice, where: str, entry: Mapping[str, Any]) -> list[Finding]:
    groups = _table_modes(entry)
    ours = price.long_context.above_tokens if price.long_context else None
    bands = sorted({band for band, _ in groups if band is not None})
    texts = [
        f"the table prices prompts above {band:,} tokens apart; the catalog "
        + (f"above {ours:,}" if ours else "has no long-context band")
        for band in bands
        if band != ours
    ]
    if ours is not None and ours not in bands:
        texts.append(f"the catalog prices prompts above {ours:,} tokens apart; the table does not")
    for (band, mode), classes in sorted(groups.items(), key=_group_order):
        if band is not None and band != ours:
            continue  # a band difference, said above
        if not price.offers(mode):
            texts.append(
                f"{_label(mode, band)}: the table prices it, the catalog does not offer it"
            )
            continue
        rates = price.rates(mode, 0 if band is None else band + 1)
        for cls in TOKEN_CLASSES:
            here = rates.of(cls) * PER_TOKEN
            if cls in classes and here != classes[cls]:
                texts.append(f"{_label(mode, band)} {cls}: table ${money(classes[cls])}, "
                             f"catalog ${money(here)} per million")  # fmt: skip
    found = [Finding("price", price.model, where + text) for text in texts]
    for band in (None, ours) if ours in bands else (None,):
        for mode in price.modes:
            if (band, mode) not in groups:
                text = f"{where}{_label(mode, band)}: the table lists no price"
                found.append(Finding("only_here", price.model, text, True, ONLY_HERE_REASON))
    return found


def _table_modes(
    entry: Mapping[str, Any],
) -> dict[tuple[int | None, Mode], dict[TokenClass, Decimal]]:
    """(band, mode) -> class -> per-million price, for the modes the table prices.

    A fragment with neither input nor output (e.g. only a batch cached-read price) prices
    no mode and is left out.
    """
    groups: dict[tuple[int | None, Mode], dict[TokenClass, Decimal]] = {}
    for key, value in token_prices(entry).items():
        groups.setdefault((key.band, key.mode), {})[key.token_class] = value
    return {k: c for k, c in groups.items() if "input" in c or "output" in c}


def _label(mode: Mode, band: int | None) -> str:
    return mode + (f" above {band // 1000}k" if band else "")


def _group_order(item: tuple[tuple[int | None, Mode], Any]) -> tuple[int, int]:
    (band, mode), _ = item
    return (band or 0, MODES.index(mode))


def _life_findings(price: ModelPrice, where: str, entry: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    window = int_field(entry, "max_input_tokens")
    if window is not None and window != price.context_window:
        found.append(Finding("context_window", price.model,
                             f"{where}table {window:,} input tokens, "
                             f"catalog {price.context_window:,}"))  # fmt: skip
    raw = entry.get("deprecation_date")
    theirs = str(raw) if raw else None
    mine = price.retires.isoformat() if price.retires else None
    if theirs != mine:
        found.append(Finding("retirement", price.model,
                             f"{where}table deprecation_date {theirs or 'none'}, "
                             f"catalog retires {mine or 'none'}"))  # fmt: skip
    return found
