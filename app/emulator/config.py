"""Emulator configuration: faults, batch timing, prompt-cache thresholds, answer length.

One pydantic model, loadable from ``FRUGALFLOW_EMULATOR_*`` environment variables and/or a
JSON file, and patchable at runtime through ``PUT /_emulator/config`` (partial update).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "FRUGALFLOW_EMULATOR_"
ENV_CONFIG_FILE = ENV_PREFIX + "CONFIG_FILE"

# Endpoints (``"METHOD /route/{template}"``) subject to error/timeout faults by default: the
# inference calls. Batch bookkeeping endpoints stay reliable unless a test opts in ("*").
# The inference endpoints: faults hit generation, not batch bookkeeping, unless asked.
DEFAULT_FAULT_ENDPOINTS = (
    "POST /v1/messages",
    "POST /v1/chat/completions",
    "POST /v1beta/models/{model}:generateContent",
    "POST /openrouter/api/v1/chat/completions",
    "POST /cerebras/v1/chat/completions",
)
MAX_ANSWER_TOKENS = 65_536  # the contract's max_tokens ceiling


class EmulatorConfig(BaseModel):
    """Every knob of the emulator. All fields have safe defaults (no faults)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- latency and faults on immediate calls -------------------------------------------
    latency_ms: int = Field(default=0, ge=0, description="Fixed latency added to every API call")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [429, 500, 529])
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_hang_s: float = Field(
        default=600.0, ge=0.0, description="How long a 'timeout' fault hangs (> client timeout)"
    )
    fail_next_n: int = Field(
        default=0,
        ge=0,
        description="The next N fault-eligible calls fail, cycling through error_statuses. "
        "Consumed as they fire; deterministic alternative to error_rate for tests.",
    )
    retry_after_s: float | None = Field(default=1.0, ge=0.0, description="Sent on 429/529/503")
    fault_endpoints: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FAULT_ENDPOINTS),
        description='Endpoint keys ("POST /v1/messages") eligible for faults; "*" = all',
    )
    seed: int | None = Field(default=0, description="Seed for fault dice; None = unseeded")

    # --- the flex service tier (OpenAI chat completions with service_tier "flex") ----------
    flex_latency_ms: int = Field(
        default=250, ge=0, description="Extra latency of a flex call: flex is the slow tier"
    )
    flex_refusal_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of flex calls refused (429)"
    )
    flex_refuse_next_n: int = Field(
        default=0, ge=0, description="The next N flex calls are refused; consumed as they fire"
    )

    # --- OpenRouter's usage accounting (app/emulator/compatible_api.py) ---------------------
    openrouter_cost_factor: float = Field(
        default=1.0,
        ge=0.0,
        le=100.0,
        description="usage.cost is the call at the catalog's list price times this; "
        "1 = OpenRouter agrees with FrugalFlow's price",
    )

    # --- batches ---------------------------------------------------------------------------
    batch_delay_s: float = Field(default=2.0, ge=0.0)
    batch_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    batch_error_custom_ids: list[str] = Field(default_factory=list)
    batch_expire: bool = Field(default=False, description="Batches end expired")
    batch_expire_completed: int = Field(
        default=0, ge=0, description="With batch_expire: the first N requests still complete"
    )
    openai_expired_in_error_file: bool = Field(
        default=True,
        description="Write batch_expired lines to the error file (else expired requests are "
        "simply missing from both files)",
    )

    # --- prompt caching --------------------------------------------------------------------
    anthropic_cache_min_tokens: int = Field(default=1024, ge=0)
    anthropic_cache_min_tokens_by_model: dict[str, int] = Field(default_factory=dict)
    openai_cache_min_tokens: int = Field(default=1024, ge=1)
    openai_cache_increment_tokens: int = Field(default=128, ge=1)
    openai_cache_ttl_s: float = Field(default=600.0, gt=0.0)
    cache_ttl_override_s: float | None = Field(
        default=None, gt=0.0, description="Replace every cache TTL (tests of expiry)"
    )

    # --- answers ---------------------------------------------------------------------------
    answer_tokens: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ANSWER_TOKENS,
        description="Every answer's natural length in tokens (None: the 12..59-token rule of "
        "app/emulator/answers.py); a request's max_tokens still cuts it, with the provider's "
        "max-tokens stop reason",
    )

    # --- misc ------------------------------------------------------------------------------
    openai_default_max_tokens: int = Field(default=4096, ge=1)
    request_log_size: int = Field(default=100, ge=0)

    def anthropic_min_tokens_for(self, model: str) -> int:
        return self.anthropic_cache_min_tokens_by_model.get(model, self.anthropic_cache_min_tokens)

    def updated(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """A validated copy with ``changes`` applied (raises pydantic.ValidationError)."""
        return EmulatorConfig.model_validate({**self.model_dump(), **dict(changes)})

    @classmethod
    def from_json_file(cls, path: str | Path) -> EmulatorConfig:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, base: EmulatorConfig | None = None
    ) -> EmulatorConfig:
        """``base`` (or defaults, or ``$FRUGALFLOW_EMULATOR_CONFIG_FILE``) overridden by env vars.

        Values are parsed as JSON when possible (``[429,500]``, ``true``, ``null``); list
        fields also accept comma-separated strings (``429,500``).
        """
        env = os.environ if environ is None else environ
        if base is None:
            file = env.get(ENV_CONFIG_FILE)
            base = cls.from_json_file(file) if file else cls()
        changes: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            changes[name] = _parse_env_value(raw, is_list="list" in str(field.annotation))
        return base.updated(changes) if changes else base


def _parse_env_value(raw: str, *, is_list: bool) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        if is_list:
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw  # pydantic coerces plain strings in lax mode
    if is_list and not isinstance(value, list):
        return [value]  # a single value for a list field: "429"
    return value
