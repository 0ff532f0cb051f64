"""Which named OpenAI-compatible providers a deployment can reach, where, and with what key.

For each entry of app/providers/compatible.py (shipped or listed):

* ``ollama``: at ``FRUGALFLOW_OPENAI_COMPATIBLE``'s base URL for it, or
  ``FRUGALFLOW_OLLAMA_BASE_URL`` (the shorthand); never the emulator unless listed;
* ``openrouter``, ``cerebras``: at their base URL when a key is set (``OPENROUTER_API_KEY``,
  ``CEREBRAS_API_KEY``, the ``FRUGALFLOW_``-prefixed forms, or the entry's own), else at
  the emulator's stand-in for them when ``FRUGALFLOW_EMULATOR_URL`` is set;
* a listed entry: at its ``base_url``, else at the emulator's OpenAI-compatible ``/v1``.

An entry that can be reached nowhere is simply not configured: requests for it are
answered ``provider_not_configured``, as for a built-in provider without a key.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from frugalflow.providers.compatible import SHIPPED, CompatibleProvider, effective_entries
from frugalflow.settings import Settings

EMULATOR_KEY = "emulator-key"  # the emulator accepts any key; never a real secret
# The emulator serves each shipped gateway at a path of its own (app/emulator/compatible_api.py).
EMULATOR_PATHS = {"openrouter": "/openrouter/api/v1", "cerebras": "/cerebras/v1"}
NO_KEY = "unused"  # local servers ignore the key; the SDK requires one


@dataclass(frozen=True, slots=True)
class Endpoint:
    entry: CompatibleProvider
    base_url: str
    api_key: SecretStr
    emulated: bool = False


def _shipped_key(settings: Settings, name: str) -> SecretStr | None:
    return {
        "openrouter": settings.openrouter_api_key,
        "cerebras": settings.cerebras_api_key,
    }.get(name)


def _endpoint(settings: Settings, entry: CompatibleProvider) -> Endpoint | None:
    emulator = settings.emulator_url.rstrip("/") if settings.emulator_url else None
    if entry.name == "ollama" and settings.ollama_base_url:
        return Endpoint(entry, settings.ollama_base_url, SecretStr("ollama"))
    if entry.name in EMULATOR_PATHS:  # a hosted service: its key, else the emulator
        key = entry.api_key or _shipped_key(settings, entry.name)
        if key is not None and entry.base_url is not None:
            return Endpoint(entry, entry.base_url, key)
        if emulator is not None:
            path = EMULATOR_PATHS[entry.name]
            return Endpoint(entry, emulator + path, SecretStr(EMULATOR_KEY), emulated=True)
        return None
    if entry.base_url is not None:
        default = "ollama" if entry.name == "ollama" else NO_KEY
        return Endpoint(entry, entry.base_url, entry.api_key or SecretStr(default))
    listed = entry.name in {e.name for e in settings.openai_compatible}
    if emulator is not None and listed:
        return Endpoint(entry, emulator + "/v1", SecretStr(EMULATOR_KEY), emulated=True)
    return None


def endpoints(settings: Settings) -> dict[str, Endpoint]:
    """The named providers this deployment can reach, by name: listed ones in their order,
    then the shipped ones (ollama, openrouter, cerebras)."""
    entries = effective_entries(settings.openai_compatible)
    order = [e.name for e in settings.openai_compatible]
    order += [name for name in SHIPPED if name not in order]
    found = {name: _endpoint(settings, entries[name]) for name in order}
    return {name: endpoint for name, endpoint in found.items() if endpoint is not None}
