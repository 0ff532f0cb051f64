"""LiteLLM's published price table (``model_prices_and_context_window.json``), read as data.

The table is one JSON object: model key → fields. The fields we read are per-token USD
prices whose names carry the token class, the context band and the service mode::

    input_cost_per_token_above_272k_tokens_flex
    └ class ───────────┘└ band ───────────┘└ mode

* classes: ``input_cost_per_token``, ``output_cost_per_token``,
  ``cache_creation_input_token_cost`` (5-minute write), ``…_above_1hr`` (1-hour write),
  ``…_above_12hr`` (extended write), ``cache_read_input_token_cost``;
* band: ``_above_<N>k_tokens`` (prompts above N thousand tokens), absent = short context;
* mode: absent = standard, ``_batches``, ``_flex``, ``_priority``.

Audio, image, search and other non-token prices are not read. LiteLLM keys Gemini API
models ``gemini/<id>`` (bare ``gemini-…`` keys are Vertex AI); Anthropic and OpenAI
models by their bare id; Cerebras models ``cerebras/<id>``, which is also the catalog's id
(a named provider's models are ``<name>/<model>``). Its ``deprecation_date`` is the
provider's shutdown date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from frugalflow.costing.rates import Mode, TokenClass

# Our provider name -> (LiteLLM key prefix, LiteLLM's litellm_provider for that API).
PROVIDER_KEYS: dict[str, tuple[str, str]] = {
    "anthropic": ("", "anthropic"),
    "openai": ("", "openai"),
    "gemini": ("gemini/", "gemini"),
    # Cerebras models are ``cerebras/<id>`` in the catalog as in requests and in the table.
    "cerebras": ("", "cerebras"),
}
TEXT_MODES = ("chat", "responses")
_CLASS_FIELDS: dict[str, TokenClass] = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "cache_creation_input_token_cost_above_12hr": "cache_write_extended",
    "cache_read_input_token_cost": "cache_read",
}
_MODE_SUFFIX: dict[str | None, Mode] = {
    None: "standard", "batches": "batch", "flex": "flex", "priority": "priority",
}  # fmt: skip
_FIELD = re.compile(
    r"^(?P<cls>" + "|".join(sorted(_CLASS_FIELDS, key=len, reverse=True)) + r")"
    r"(?:_above_(?P<band>\d+)k_tokens)?(?:_(?P<mode>batches|flex|priority))?$"
)
MILLION = Decimal(1_000_000)


class PriceTableError(ValueError):
    """The file is not a LiteLLM price table."""


@dataclass(frozen=True, slots=True)
class PriceKey:
    band: int | None  # threshold in tokens, None = short context
    mode: Mode
    token_class: TokenClass

    def label(self) -> str:
        band = f" above {self.band // 1000}k" if self.band else ""
        return f"{self.mode}{band} {self.token_class}"


def to_decimal(value: Any) -> Decimal:
    """A JSON number as the decimal it was written as (``3e-06`` → ``0.000003``)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def load_table(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PriceTableError(f"{path}: cannot read a JSON price table: {exc}") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise PriceTableError(f"{path}: expected an object of model entries")
    return {k: v for k, v in doc.items() if k != "sample_spec"}


def token_prices(entry: Mapping[str, Any]) -> dict[PriceKey, Decimal]:
    """Every per-token price of one entry, per million tokens."""
    found: dict[PriceKey, Decimal] = {}
    for field, value in entry.items():
        match = _FIELD.match(field)
        if match is None or isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        band = int(match["band"]) * 1000 if match["band"] else None
        key = PriceKey(band, _MODE_SUFFIX[match["mode"]], _CLASS_FIELDS[match["cls"]])
        found[key] = to_decimal(value) * MILLION
    return found


def table_key(provider: str, model: str) -> str:
    return PROVIDER_KEYS[provider][0] + model


def entry_for(
    table: Mapping[str, Mapping[str, Any]], provider: str, model: str
) -> Mapping[str, Any] | None:
    """LiteLLM's entry for ``model`` on ``provider``'s own API, or None."""
    if provider not in PROVIDER_KEYS:
        return None
    entry = table.get(table_key(provider, model))
    if entry is None or entry.get("litellm_provider") != PROVIDER_KEYS[provider][1]:
        return None
    return entry


def text_models(table: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """(provider, model id) → table key for every chat/responses model of our providers."""
    found: dict[tuple[str, str], str] = {}
    for provider, (prefix, litellm_provider) in PROVIDER_KEYS.items():
        for key, entry in table.items():
            if entry.get("litellm_provider") != litellm_provider:
                continue
            if entry.get("mode") not in TEXT_MODES or not key.startswith(prefix):
                continue
            found[(provider, key[len(prefix) :])] = key
    return found


def int_field(entry: Mapping[str, Any], field: str) -> int | None:
    value = entry.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(cast(float, value))
