"""Named OpenAI-compatible providers in the settings: the list, its errors, and which
providers the registry then knows, reaches and emulates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frugalflow.providers.compatible import SHIPPED
from frugalflow.providers.endpoints import EMULATOR_KEY, endpoints
from frugalflow.providers.registry import PROVIDERS, ProviderRegistry
from frugalflow.settings import Settings, SettingsError, load_settings

KEY_VARIABLES = ("OPENROUTER_API_KEY", "CEREBRAS_API_KEY", "ANTHROPIC_API_KEY",
                 "OPENAI_API_KEY", "GEMINI_API_KEY")  # fmt: skip
SECRET = "sk-or-v1-very-secret-value"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)
    for name in ("EMULATOR_URL", "OLLAMA_BASE_URL", "OPENAI_COMPATIBLE"):
        monkeypatch.delenv(f"FRUGALFLOW_{name}", raising=False)


def with_entries(monkeypatch: pytest.MonkeyPatch, entries: Any) -> Settings:
    raw = entries if isinstance(entries, str) else json.dumps(entries)
    monkeypatch.setenv("FRUGALFLOW_OPENAI_COMPATIBLE", raw)
    return load_settings()


def error_of(monkeypatch: pytest.MonkeyPatch, entries: Any) -> str:
    with pytest.raises(SettingsError) as raised:
        with_entries(monkeypatch, entries)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("frugalflow: invalid setting: FRUGALFLOW_OPENAI_COMPATIBLE: ")
    return message


# ------------------------------------------------------------------ the list


def test_entries_parse_with_defaults_and_exact_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = with_entries(monkeypatch, [
        {"name": "vllm", "base_url": "http://gpu-1:8000/v1/", "free": True,
         "models": {"qwen3-32b": {"tier": "medium"}}},
        {"name": "gateway", "base_url": "https://llm.example.com/v1",
         "max_tokens_param": "max_completion_tokens", "reports_cost": True,
         "default_price": {"input": "1.25", "output": 3}},
    ])  # fmt: skip
    vllm, gateway = settings.openai_compatible
    assert (vllm.name, vllm.base_url, vllm.free) == ("vllm", "http://gpu-1:8000/v1", True)
    assert vllm.max_tokens_param == "max_tokens" and not vllm.reports_cost
    assert vllm.models["qwen3-32b"].tier == "medium" and vllm.models["qwen3-32b"].price is None
    assert gateway.max_tokens_param == "max_completion_tokens" and gateway.reports_cost
    assert gateway.default_price is not None
    assert (str(gateway.default_price.input), str(gateway.default_price.output)) == ("1.25", "3")
    direct = load_settings(openai_compatible=[{"name": "x", "base_url": "http://x"}])
    assert [e.name for e in direct.openai_compatible] == ["x"]


def test_json_numbers_are_exact_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = '[{"name": "gw", "base_url": "http://x", "default_price": {"input": 0.1, "output": 1}}]'
    [entry] = with_entries(monkeypatch, raw).openai_compatible
    assert entry.default_price is not None and str(entry.default_price.input) == "0.1"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ("{not json", "not valid JSON: Expecting property name enclosed in double quotes "
                      "(line 1, column 2)"),
        ({"name": "x"}, "expected a JSON list of provider entries"),
        ([{"name": "vllm"}], "entry 0 ('vllm'): field 'base_url': required unless "
                             "FRUGALFLOW_EMULATOR_URL is set"),
        ([{"name": "Big", "base_url": "http://x"}], "entry 0 ('Big'): field 'name': 1-40 "
                                                    "lowercase letters"),
        ([{"name": "openai", "base_url": "http://x"}], "entry 0 ('openai'): field 'name': "
                                                       "'openai' is a built-in provider"),
        ([{"name": "gw", "base_url": "ftp://x"}], "entry 0 ('gw'): field 'base_url': expected "
                                                  "an http:// or https:// URL"),
        ([{"name": "gw", "base_url": "http://x", "price": {}}], "entry 0 ('gw'): field 'price': "
                                                               "Extra inputs are not permitted"),
        ([{"name": "gw", "base_url": "http://x", "max_tokens_param": "limit"}],
         "entry 0 ('gw'): field 'max_tokens_param': Input should be 'max_tokens' or "
         "'max_completion_tokens'"),
        ([{"name": "gw", "base_url": "http://x", "models": {"m": {"input": "1"}}}],
         "entry 0 ('gw'): field 'models.m': give both 'input' and 'output', or neither"),
        ([{"name": "gw", "base_url": "http://x", "models": {"m": {"tier": "huge"}}}],
         "entry 0 ('gw'): field 'models.m.tier': Input should be 'small', 'medium' or 'large'"),
        ([{"name": "gw", "base_url": "http://x", "models": {"gw/m": {}}}],
         "entry 0 ('gw'): models: write 'gw/m' without the provider prefix 'gw/'"),
        ([{"name": "gw", "base_url": "http://x",
           "default_price": {"input": "0.12345", "output": "1"}}],
         "entry 0 ('gw'): field 'default_price.input': Decimal input should have no more than "
         "4 decimal places"),
        ([{"name": "gw", "base_url": "http://x", "default_price": {"input": "-1", "output": "1"}}],
         "field 'default_price.input': Input should be greater than or equal to 0"),
        ([{"name": "a", "base_url": "http://x"}, {"name": "a", "base_url": "http://y"}],
         "entry 1 ('a'): field 'name': listed twice"),
        ([{"name": "gw", "base_url": "http://x", "api_key_env": "GW_KEY_NOT_SET"}],
         "entry 0 ('gw'): field 'api_key_env': GW_KEY_NOT_SET is not set"),
        ([{"name": "gw", "base_url": "http://x", "api_key": "k", "api_key_env": "K"}],
         "entry 0 ('gw'): give 'api_key' or 'api_key_env', not both"),
    ],
    ids=["json", "not-a-list", "no-base-url", "name", "built-in", "url", "unknown-field",
         "max-tokens-param", "half-price", "tier", "prefixed-model", "decimals", "negative",
         "duplicate", "key-env-unset", "two-key-sources"],
)  # fmt: skip
def test_a_bad_entry_is_one_line_naming_the_entry_and_field(
    monkeypatch: pytest.MonkeyPatch, entries: Any, expected: str
) -> None:
    assert expected in error_of(monkeypatch, entries)


def test_errors_never_echo_a_key_or_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"ftp://user:{SECRET}@host"
    message = error_of(monkeypatch, [{"name": "gw", "base_url": url, "api_key": SECRET}])
    assert SECRET not in message
    message = error_of(monkeypatch, [{"name": "gw", "base_url": "http://x",
                                      "api_key": SECRET + "\u0001"}])  # fmt: skip
    assert "control character" in message and SECRET not in message


def test_api_key_env_is_read_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_KEY", f"  {SECRET}\n")
    settings = with_entries(
        monkeypatch, [{"name": "gw", "base_url": "https://gw/v1", "api_key_env": "GW_KEY"}]
    )
    [entry] = settings.openai_compatible
    assert entry.api_key is not None and entry.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    monkeypatch.setenv("GW_KEY", " ")
    assert "GW_KEY is not set" in error_of(
        monkeypatch, [{"name": "gw", "base_url": "https://gw/v1", "api_key_env": "GW_KEY"}]
    )


def test_ollama_shorthand_or_an_entry_never_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUGALFLOW_OLLAMA_BASE_URL", "http://localhost:11434/v1")
    message = error_of(monkeypatch, [{"name": "ollama", "base_url": "http://other:11434/v1"}])
    assert "entry 0 ('ollama'): also set by FRUGALFLOW_OLLAMA_BASE_URL" in message


def test_the_emulator_stands_in_for_an_entry_without_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRUGALFLOW_EMULATOR_URL", "http://emu:1/")
    settings = with_entries(monkeypatch, [{"name": "vllm", "free": True}])
    found = endpoints(settings)["vllm"]
    assert (found.base_url, found.emulated) == ("http://emu:1/v1", True)
    assert found.api_key.get_secret_value() == EMULATOR_KEY


# ------------------------------------------------------------------ registry


def test_shipped_entries() -> None:
    assert PROVIDERS == ("anthropic", "openai", "gemini", "ollama", "openrouter", "cerebras")
    assert SHIPPED["openrouter"].base_url == "https://openrouter.ai/api/v1"
    assert SHIPPED["openrouter"].reports_cost and SHIPPED["openrouter"].vendor_models
    assert SHIPPED["cerebras"].base_url == "https://api.cerebras.ai/v1"
    assert SHIPPED["cerebras"].max_tokens_param == "max_completion_tokens"
    assert SHIPPED["ollama"].free and SHIPPED["ollama"].base_url is None


@pytest.mark.parametrize(
    ("env", "configured", "emulated"),
    [
        ({}, set(), set()),
        ({"OPENROUTER_API_KEY": "k"}, {"openrouter"}, set()),
        ({"FRUGALFLOW_CEREBRAS_API_KEY": "k"}, {"cerebras"}, set()),
        ({"FRUGALFLOW_EMULATOR_URL": "http://emu:1"},
         {"anthropic", "openai", "gemini", "openrouter", "cerebras"},
         {"anthropic", "openai", "gemini", "openrouter", "cerebras"}),
        ({"FRUGALFLOW_EMULATOR_URL": "http://emu:1", "CEREBRAS_API_KEY": "k",
          "FRUGALFLOW_OLLAMA_BASE_URL": "http://o:11434/v1"},
         {"anthropic", "openai", "gemini", "ollama", "openrouter", "cerebras"},
         {"anthropic", "openai", "gemini", "openrouter"}),
        ({"FRUGALFLOW_OPENAI_COMPATIBLE": '[{"name": "vllm", "base_url": "http://v/v1"}]'},
         {"vllm"}, set()),
    ],
    ids=["nothing", "openrouter-key", "cerebras-key", "emulator", "mixed", "listed"],
)  # fmt: skip
def test_registry_configuration_matrix(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], configured: set[str], emulated: set[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    registry = ProviderRegistry(load_settings())
    candidates = (*PROVIDERS, "vllm", "mistral")
    assert {p for p in candidates if registry.is_configured(p)} == configured
    assert set(registry.configured()) == configured
    assert {p for p in candidates if registry.uses_emulator(p)} == emulated
    assert registry.names()[:3] == ("anthropic", "openai", "gemini")
    assert registry.batch_capable() <= {"anthropic", "openai", "gemini"}  # no gateway batches
    assert registry.flex_capable() <= {"openai", "gemini"}  # no gateway flex


def test_real_endpoints_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    monkeypatch.setenv("FRUGALFLOW_EMULATOR_URL", "http://emu:1")
    found = endpoints(load_settings())
    router, cerebras = found["openrouter"], found["cerebras"]
    assert (router.base_url, router.emulated) == ("https://openrouter.ai/api/v1", False)
    assert router.api_key.get_secret_value() == SECRET and SECRET not in repr(router)
    assert (cerebras.base_url, cerebras.emulated) == ("http://emu:1/cerebras/v1", True)
    assert "ollama" not in found  # the shorthand is not set, and ollama is never emulated


def test_a_listed_shipped_name_changes_only_what_it_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-1")
    settings = with_entries(monkeypatch, [
        {"name": "cerebras", "models": {"gpt-oss-120b": {"tier": "large"}}},
        {"name": "openrouter", "base_url": "https://eu.openrouter.example/api/v1",
         "api_key": "sk-or-2"},
    ])  # fmt: skip
    found = endpoints(settings)
    assert list(found) == ["cerebras", "openrouter"]  # listed order
    cerebras, router = found["cerebras"].entry, found["openrouter"].entry
    assert cerebras.base_url == "https://api.cerebras.ai/v1"
    assert cerebras.max_tokens_param == "max_completion_tokens"
    assert found["cerebras"].api_key.get_secret_value() == "csk-1"
    assert router.reports_cost and router.vendor_models
    assert found["openrouter"].base_url == "https://eu.openrouter.example/api/v1"
    assert found["openrouter"].api_key.get_secret_value() == "sk-or-2"
