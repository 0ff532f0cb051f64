"""Deployment settings, read once at start from ``FRUGALFLOW_*`` environment variables.

Frozen and validated: a bad value stops the worker with one readable line (see
``load_settings``). Secrets are ``SecretStr`` so they never print in logs or reprs.
A few de-facto standard variables are honoured without the prefix
(``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL``, ``REDIS_URL``, ``ANTHROPIC_API_KEY``,
``OPENAI_API_KEY``, ``GEMINI_API_KEY``, ``OPENROUTER_API_KEY``, ``CEREBRAS_API_KEY``)
because every tool in this space reads them.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from frugalflow.alerts.channels import Channel, parse_channels
from frugalflow.providers.compatible import (
    CompatibleProvider,
    EntryError,
    clean_secret,
    merged,
    parse_entries,
)


class SettingsError(SystemExit):
    """Raised with one readable line when the environment holds an invalid setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRUGALFLOW_", frozen=True, extra="ignore", populate_by_name=True
    )

    # --- Kafka
    kafka_bootstrap_servers: str = Field(
        "localhost:9092",
        validation_alias=AliasChoices(
            "FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]*$", max_length=100)
    partitions: int = Field(4, ge=1, le=1024, description="partition count shared by all topics")
    replication_factor: int = Field(1, ge=1, le=10)
    app_id: str = Field("frugalflow", pattern=r"^[A-Za-z0-9._-]+$")
    worker_id: str = Field("", description="stable consumer-group instance id (StatefulSet name)")
    data_dir: str = Field("./var/worker", description="Faust table state directory")
    session_timeout_s: float = Field(
        30.0, ge=3, le=300, description="a crashed worker's partitions move after this long"
    )
    web_port: int = Field(6066, ge=0, le=65535)
    web_host: str = "127.0.0.1"
    # Tansu (the local broker) needs a few client settings adjusted; see app/kafka_compat.py.
    broker_flavor: Literal["kafka", "tansu"] = "kafka"

    # --- Intake
    max_value_bytes: int = Field(1024 * 1024, ge=1024)
    dedupe_ttl_s: float = Field(
        48 * 3600,
        ge=0,
        description="a repeated request_id is dead-lettered as a duplicate if sent within this "
        "long of the first (record time); older ids are forgotten, 0 = never. Keep it above "
        "batch_membership_ttl_s plus the longest batch (24 h at the providers), else a repeat "
        "accepted again on the batch path is never answered a second time",
    )

    # --- Path choice and windows
    batch_min_deadline_s: int = Field(
        3600, ge=1, description="a batch-priority request needs at least this deadline"
    )
    flex_min_deadline_s: int = Field(
        300,
        ge=1,
        description="a batch-priority request whose deadline is at least this (and too short "
        "for the batch path) goes to the flex tier where the model and provider sell one",
    )
    flex_wait_s: float = Field(
        45.0,
        gt=0,
        le=600,
        description="longest a request waits on the flex tier (slow answers, retries after "
        "'resource unavailable') before it is sent to the standard tier",
    )
    window_max_requests: int = Field(500, ge=1, le=100_000)
    window_max_seconds: float = Field(2.0, gt=0, le=3600)
    # Under 1 MiB: the slice is also kept in a table whose changelog uses broker defaults.
    batch_record_max_bytes: int = Field(900 * 1024, ge=128 * 1024, le=16 * 1024 * 1024)
    # Calls in flight per worker: at 50 ms a call, 256 keep a slow provider from capping
    # the worker (bench throughput's slow-provider phase); each waiting call is a coroutine.
    immediate_concurrency: int = Field(256, ge=1, le=1024)
    batch_poll_interval_s: float = Field(5.0, gt=0, le=3600)
    batch_poll_max_interval_s: float = Field(
        300.0, gt=0, le=3600, description="cap of the per-batch polling backoff"
    )
    batch_membership_ttl_s: float = Field(
        24 * 3600,
        ge=0,
        description="a finished batch's requests are remembered this long after it finished, "
        "so a window redelivered after a crash is not submitted again; must exceed the "
        "longest outage after which records are redelivered; 0 = never forget",
    )

    # --- Providers
    default_provider: Literal["anthropic", "openai", "gemini"] = "anthropic"
    default_model: str = "claude-haiku-4-5"
    default_openai_model: str = "gpt-5.4-mini"
    default_gemini_model: str = "gemini-2.5-flash-lite"
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    gemini_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_GEMINI_API_KEY", "GEMINI_API_KEY")
    )
    openrouter_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("FRUGALFLOW_OPENROUTER_API_KEY", "OPENROUTER_API_KEY"),
    )
    cerebras_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_CEREBRAS_API_KEY", "CEREBRAS_API_KEY")
    )
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None
    gemini_base_url: str | None = Field(
        None, description="root of the Gemini API (paths start with /v1beta)"
    )
    ollama_base_url: str | None = Field(
        None,
        description="OpenAI-compatible local endpoint, e.g. http://localhost:11434/v1; "
        "provider 'ollama' is configured only when set",
    )
    emulator_url: str | None = Field(
        None, description="provider emulator used for every provider that has no key"
    )
    openai_compatible: Annotated[tuple[CompatibleProvider, ...], NoDecode] = Field(
        (),
        description="JSON list of named OpenAI-compatible providers (vLLM, a gateway, ...): "
        "name, base_url, api_key or api_key_env, max_tokens_param, reports_cost, "
        "vendor_models, free, models, default_price; see app/providers/compatible.py",
    )
    circuit_failure_threshold: int = Field(5, ge=1, le=1000)
    circuit_billing_threshold: int = Field(2, ge=1, le=1000)
    circuit_cooldown_s: float = Field(30.0, ge=0, le=3600)
    anthropic_batch_cache_ttl_1h: bool = Field(
        False, description="1-hour prompt-cache TTL on the batch path (batches outlive 5 min)"
    )
    provider_timeout_s: float = Field(30.0, gt=0, le=600)

    # --- Sink
    database_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FRUGALFLOW_REDIS_URL", "REDIS_URL")
    )
    policy_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="JSON policy document under every tenant's (and the '*' row's) policy",
    )
    redis_timeout_s: float = Field(
        0.05, gt=0, le=10, description="response-cache calls give up after this (then: a miss)"
    )
    sink_batch_size: int = Field(2000, ge=1, le=100_000)  # events per insert, at most
    sink_batch_seconds: float = Field(1.0, gt=0, le=60)
    activity_sink: bool = Field(
        True,
        description="store alerts, rejected answers and batch records in Postgres for the "
        "console (three batching agents; off: its alert, rejection and batch views stay empty)",
    )

    # --- Admin API and experiments
    admin_token: SecretStr | None = Field(
        None, description="bearer token of the admin API; unset = every request is refused"
    )
    admin_readonly_token: SecretStr | None = Field(
        None, description="bearer token allowed to read (GET) but not to change anything"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=0, le=65535)
    experiment_min_sample: int = Field(
        100, ge=1, le=10_000_000, description="impressions per variant before significance"
    )
    experiment_refresh_s: float = Field(
        10.0, gt=0, le=3600, description="how often workers reload the running experiments"
    )
    policy_refresh_s: float = Field(
        2.0, gt=0, le=3600, description="how often workers reload tenant policies and budgets"
    )

    # --- Alert delivery (app/alerts): channels by name, secrets masked
    alert_channels: Annotated[dict[str, Channel], NoDecode] = Field(
        default_factory=dict,
        description="JSON object {name: {type: webhook|slack|pagerduty|email, ...}}; tenant "
        "policies name channels ('alerts.channels'), never their URLs or keys",
    )
    alert_default_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="comma-separated channel names for tenants whose policy names none"
    )
    alert_max_attempts: int = Field(8, ge=1, le=100)
    alert_retry_base_s: float = Field(5.0, gt=0, le=3600)
    alert_retry_max_s: float = Field(600.0, gt=0, le=86400)
    alert_max_age_s: float = Field(
        6 * 3600,
        gt=0,
        description="an alert older than this when the notifier reads it (a first rollout "
        "over a topic's history, a long outage) is recorded as failed 'stale', not sent",
    )
    alert_poll_s: float = Field(
        1.0, gt=0, le=60, description="due retries are looked for this often"
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto", description="the worker's event loop: auto = uvloop where it is installed"
    )

    @field_validator("policy_defaults")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        from frugalflow.policy.models import effective_policy

        effective_policy(value)  # a bad document stops the worker at start, not per request
        return value

    @field_validator(
        "anthropic_api_key", "openai_api_key", "gemini_api_key", "openrouter_api_key",
        "cerebras_api_key", "database_url", "redis_url",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``KEY=`` in an env file means "not set", never "configured with an empty key".

        Surrounding whitespace (a secret file's trailing newline) is dropped; a control
        character inside would end up in URLs and error texts, so it is refused — the
        error names the variable, never the value.
        """
        return clean_secret(value)

    @field_validator("openai_compatible", mode="before")
    @classmethod
    def _compatible_entries(cls, value: object) -> object:
        try:
            return parse_entries(value)
        except EntryError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("openai_compatible")
    @classmethod
    def _compatible_reachable(
        cls, entries: tuple[CompatibleProvider, ...], info: ValidationInfo
    ) -> tuple[CompatibleProvider, ...]:
        """Each entry can be called: it has a base URL (or the emulator stands in), and the
        variable its ``api_key_env`` names is set (its value becomes ``api_key``)."""
        resolved = []
        for index, entry in enumerate(entries):
            label = f"entry {index} ({entry.name!r})"
            if entry.name == "ollama" and info.data.get("ollama_base_url"):
                raise ValueError(f"{label}: also set by FRUGALFLOW_OLLAMA_BASE_URL: keep one")
            if merged(entry).base_url is None and not info.data.get("emulator_url"):
                raise ValueError(
                    f"{label}: field 'base_url': required unless FRUGALFLOW_EMULATOR_URL is set"
                )
            if entry.api_key_env is not None:
                try:
                    key = clean_secret(os.environ.get(entry.api_key_env))
                except ValueError:
                    raise ValueError(
                        f"{label}: field 'api_key_env': {entry.api_key_env} contains a "
                        "control character"
                    ) from None
                if not isinstance(key, str):
                    raise ValueError(
                        f"{label}: field 'api_key_env': {entry.api_key_env} is not set"
                    )
                entry = entry.model_copy(update={"api_key": SecretStr(key)})
            resolved.append(entry)
        return tuple(resolved)

    @field_validator("admin_token", "admin_readonly_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: object) -> object:
        return cls._blank_is_unset(value)

    @field_validator("alert_channels", mode="before")
    @classmethod
    def _alert_channels(cls, value: object) -> object:
        return parse_channels(value)

    @field_validator("alert_default_channels", mode="before")
    @classmethod
    def _default_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("alert_default_channels")
    @classmethod
    def _default_channels_exist(cls, value: tuple[str, ...], info: ValidationInfo) -> object:
        known = info.data.get("alert_channels") or {}
        for name in value:
            if name not in known:
                raise ValueError(f"channel {name!r} is not in FRUGALFLOW_ALERT_CHANNELS")
        return value

    @field_validator("batch_membership_ttl_s")
    @classmethod
    def _dedupe_outlives_membership(cls, value: float, info: ValidationInfo) -> float:
        """A repeat that intake accepts again must not meet the first one's membership."""
        dedupe = info.data.get("dedupe_ttl_s")
        if dedupe is None or dedupe == 0:
            return value
        if value == 0:
            raise ValueError("0 (never forget) needs FRUGALFLOW_DEDUPE_TTL_S=0 as well")
        if value > dedupe:
            raise ValueError(f"must not exceed FRUGALFLOW_DEDUPE_TTL_S ({dedupe:g})")
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _hosts_have_ports(cls, value: str) -> str:
        for host in value.split(","):
            name, _, port = host.strip().rpartition(":")
            if not name or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    def topic(self, name: str) -> str:
        """A contract topic's name with this deployment's prefix."""
        return f"{self.topic_prefix}{name}"


def load_settings(**overrides: object) -> Settings:
    """Read settings; on an invalid value raise ``SettingsError`` with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"frugalflow: invalid setting: {problems}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable an error is about (aliases are already full names)."""
    name = "_".join(str(part) for part in loc).upper()
    return name if name.startswith("FRUGALFLOW_") else f"FRUGALFLOW_{name}"
