"""OpenAI-compatible providers by name: their settings entry, and the entries FrugalFlow ships.

``FRUGALFLOW_OPENAI_COMPATIBLE`` is a JSON list of entries, one per provider::

    [{"name": "vllm", "base_url": "http://gpu-1:8000/v1", "free": true,
      "models": {"qwen3-32b": {"tier": "medium"}}},
     {"name": "gateway", "base_url": "https://llm.example.com/v1",
      "api_key_env": "GATEWAY_KEY", "max_tokens_param": "max_completion_tokens",
      "default_price": {"input": "1.00", "output": "3.00"}}]

``name`` is the provider name and the model prefix: requests name ``<name>/<model>`` and
the prefix is stripped on the wire. Prices are USD per million tokens, as strings (at most
4 decimals, so costs stay exact to 1e-10 USD per token). How a model is priced is
app/costing/named_prices.py; which entries are configured, app/providers/endpoints.py.

Shipped entries (:data:`SHIPPED`): ``openrouter`` and ``cerebras``, configured by their
key or the emulator, and ``ollama``, configured by ``FRUGALFLOW_OLLAMA_BASE_URL``. A list
entry with a shipped name changes only the fields it gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from frugalflow.policy.models import Tier

BUILT_IN = ("anthropic", "openai", "gemini")  # own adapters and settings, never list entries
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"

PerMillion = Annotated[Decimal, Field(ge=0, decimal_places=4)]


class Price(BaseModel):
    """A price in USD per million tokens; ``cache_read`` defaults to ``input``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: PerMillion
    output: PerMillion
    cache_read: PerMillion | None = None


class ModelSpec(BaseModel):
    """One model of an entry: its price (both input and output, or neither) and its tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: PerMillion | None = None
    output: PerMillion | None = None
    cache_read: PerMillion | None = None
    tier: Tier | None = None

    @model_validator(mode="after")
    def _whole_price(self) -> ModelSpec:
        if (self.input is None) != (self.output is None):
            raise ValueError("give both 'input' and 'output', or neither")
        if self.cache_read is not None and self.input is None:
            raise ValueError("'cache_read' needs 'input' and 'output'")
        return self

    @property
    def price(self) -> Price | None:
        if self.input is None or self.output is None:
            return None
        return Price(input=self.input, output=self.output, cache_read=self.cache_read)


class CompatibleProvider(BaseModel):
    """One OpenAI-compatible provider (module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)
    # Chat Completions' output cap: local servers and gateways differ in which they honour.
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # The answer's usage.cost is what the call was billed (OpenRouter's usage accounting).
    reports_cost: bool = False
    # Model ids are ``<vendor>/<model>`` and priced at the vendor's catalog model (OpenRouter).
    vendor_models: bool = False
    # A local endpoint: a model priced nowhere costs $0 instead of being ``unknown_model``.
    free: bool = False
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    default_price: Price | None = None

    @field_validator("name")
    @classmethod
    def _provider_name(cls, value: str) -> str:
        if not re.fullmatch(NAME_PATTERN, value):
            raise ValueError("1-40 lowercase letters, digits, '-' or '_', starting with a letter")
        if value in BUILT_IN:
            raise ValueError(f"{value!r} is a built-in provider with its own settings")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # The value is never echoed: a URL may carry credentials.
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError("expected an http:// or https:// URL")
        return value.strip().rstrip("/") if value is not None else None

    @field_validator("api_key", mode="before")
    @classmethod
    def _clean_key(cls, value: object) -> object:
        return clean_secret(value)

    @model_validator(mode="after")
    def _one_key_source(self) -> CompatibleProvider:
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give 'api_key' or 'api_key_env', not both")
        for model in self.models:
            if not model.strip() or model != model.strip():
                raise ValueError(f"models: {model!r} is not a model id")
            if model.startswith(f"{self.name}/"):
                raise ValueError(
                    f"models: write {model!r} without the provider prefix {self.name + '/'!r}"
                )
        return self

    @property
    def prefix(self) -> str:
        return f"{self.name}/"


def clean_secret(value: object) -> object:
    """Whitespace around a secret is dropped and blank means unset; a control character
    inside is refused (it would end up in headers), without echoing the value."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("contains a control character")
    return value or None


SHIPPED: dict[str, CompatibleProvider] = {
    "ollama": CompatibleProvider(name="ollama", free=True),
    "openrouter": CompatibleProvider(
        name="openrouter",
        base_url="https://openrouter.ai/api/v1",
        reports_cost=True,
        vendor_models=True,
    ),
    "cerebras": CompatibleProvider(
        name="cerebras",
        base_url="https://api.cerebras.ai/v1",
        max_tokens_param="max_completion_tokens",
    ),
}


class EntryError(ValueError):
    """A malformed ``FRUGALFLOW_OPENAI_COMPATIBLE``: the message names the entry and field."""


def _where(index: int, raw: object) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    label = f" ({name[:40]!r})" if isinstance(name, str) else ""
    return f"entry {index}{label}"


def parse_entries(raw: object) -> tuple[CompatibleProvider, ...]:
    """Validate the list (a JSON text or already decoded); raises :class:`EntryError`."""
    if isinstance(raw, str):
        if not raw.strip():
            return ()
        try:
            raw = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            # the position, never the text: it may hold a key
            raise EntryError(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
    if not isinstance(raw, list | tuple):
        raise EntryError("expected a JSON list of provider entries")
    entries: list[CompatibleProvider] = []
    for index, item in enumerate(raw):
        if isinstance(item, CompatibleProvider):
            entries.append(item)
            continue
        try:
            entries.append(CompatibleProvider.model_validate(item))
        except ValidationError as exc:
            raise EntryError(f"{_where(index, item)}: {_problems(exc)}") from None
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.name in seen:
            raise EntryError(f"entry {index} ({entry.name!r}): field 'name': listed twice")
        seen.add(entry.name)
    return tuple(entries)


def _problems(exc: ValidationError) -> str:
    found = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        found.append(f"field {field!r}: {message}" if field else message)
    return "; ".join(found)


def merged(entry: CompatibleProvider) -> CompatibleProvider:
    """``entry`` over the shipped entry of the same name (only the fields it gave)."""
    base = SHIPPED.get(entry.name)
    if base is None:
        return entry
    given: dict[str, Any] = {name: getattr(entry, name) for name in entry.model_fields_set}
    return base.model_copy(update=given)


def effective_entries(listed: tuple[CompatibleProvider, ...]) -> dict[str, CompatibleProvider]:
    """Every named provider's entry: the shipped ones, overlaid and extended by ``listed``."""
    entries = dict(SHIPPED)
    for entry in listed:
        entries[entry.name] = merged(entry)
    return entries
