"""The worker builds its provider clients at start, not on the first request."""

from __future__ import annotations

import logging

import pytest

from frugalflow.providers.registry import ProviderRegistry
from frugalflow.settings import Settings


async def test_warm_builds_every_configured_provider_once() -> None:
    registry = ProviderRegistry(Settings(emulator_url="http://127.0.0.1:9"))
    try:
        assert registry.warm() == registry.configured()
        assert set(registry.configured()) >= {"anthropic", "openai", "gemini"}
        first = {name: registry.get(name) for name in registry.configured()}
        registry.warm()  # again: the same clients, none rebuilt
        assert all(registry.get(name) is adapter for name, adapter in first.items())
    finally:
        await registry.aclose()


async def test_a_client_that_fails_to_build_is_logged_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registry = ProviderRegistry(Settings(emulator_url="http://127.0.0.1:9"))
    real_build = registry._build

    def build(provider: str) -> object:
        if provider == "openai":
            raise RuntimeError("no such SDK")
        return real_build(provider)

    monkeypatch.setattr(registry, "_build", build)
    try:
        with caplog.at_level(logging.ERROR):
            built = registry.warm()
        assert "openai" not in built and "anthropic" in built
        assert "provider openai: client not built at start" in caplog.text
        with pytest.raises(RuntimeError):  # its requests fail as they did before
            registry.get("openai")
    finally:
        await registry.aclose()
