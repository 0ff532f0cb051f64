"""Which providers this deployment can reach, and their adapters.

Adapters are created inside the running event loop, because SDK clients bind to the loop
they were created in: the worker builds them at its start (:meth:`ProviderRegistry.warm`,
from a task), anything else on first use. A built-in provider (anthropic, openai, gemini)
with no API key uses the emulator when ``FRUGALFLOW_EMULATOR_URL`` is set, and is "not
configured" otherwise. The named OpenAI-compatible providers (``ollama``, ``openrouter``,
``cerebras`` and those of ``FRUGALFLOW_OPENAI_COMPATIBLE``) are configured as
app/providers/endpoints.py says; :meth:`ProviderRegistry.names` lists them after the
built-in ones.

Which providers can batch comes from each adapter class's ``capabilities``.
"""

from __future__ import annotations

import logging

from frugalflow.providers.base import Capabilities, ProviderAdapter
from frugalflow.providers.compatible import BUILT_IN, SHIPPED
from frugalflow.providers.endpoints import EMULATOR_KEY, Endpoint, endpoints
from frugalflow.settings import Settings

__all__ = ["EMULATOR_KEY", "PROVIDERS", "ProviderNotConfigured", "ProviderRegistry"]

log = logging.getLogger(__name__)

# Every provider this code ships an entry for; a deployment may name more
# (``ProviderRegistry.names``).
PROVIDERS = (*BUILT_IN, *SHIPPED)


class ProviderNotConfigured(LookupError):
    pass


def adapter_class(provider: str) -> type[ProviderAdapter]:
    """The adapter class for ``provider`` (imported on demand: each pulls in its SDK).

    Any name that is not built in is a named OpenAI-compatible provider.
    """
    if provider == "anthropic":
        from frugalflow.providers.anthropic_adapter import AnthropicAdapter

        return AnthropicAdapter
    if provider == "openai":
        from frugalflow.providers.openai_adapter import OpenAIAdapter

        return OpenAIAdapter
    if provider == "gemini":
        from frugalflow.providers.gemini_adapter import GeminiAdapter

        return GeminiAdapter
    if provider == "ollama":
        from frugalflow.providers.ollama_adapter import OllamaAdapter

        return OllamaAdapter
    from frugalflow.providers.compatible_adapter import OpenAICompatibleAdapter

    return OpenAICompatibleAdapter


def capabilities(provider: str) -> Capabilities:
    return adapter_class(provider).capabilities


class ProviderRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._named: dict[str, Endpoint] = endpoints(settings)
        self._adapters: dict[str, ProviderAdapter] = {}
        self._batch_capable: frozenset[str] | None = None
        self._flex_capable: frozenset[str] | None = None

    def names(self) -> tuple[str, ...]:
        """Every provider name this deployment knows: the built-in ones first, then the
        named providers it can reach."""
        return (*BUILT_IN, *self._named)

    def configured(self) -> tuple[str, ...]:
        return tuple(name for name in self.names() if self.is_configured(name))

    def is_configured(self, provider: str) -> bool:
        return provider in self._named or self._credentials(provider) is not None

    def batch_capable(self) -> frozenset[str]:
        """Configured providers with a Batch API. Asked per request by intake, and settings
        are frozen, so it is worked out once (lazily: it imports the adapters' SDKs)."""
        if self._batch_capable is None:
            self._batch_capable = frozenset(
                name for name in self.configured() if capabilities(name).batching
            )
        return self._batch_capable

    def flex_capable(self) -> frozenset[str]:
        """Configured providers whose real-time API sells a flex tier (worked out once)."""
        if self._flex_capable is None:
            self._flex_capable = frozenset(
                name for name in self.configured() if capabilities(name).flex
            )
        return self._flex_capable

    def uses_emulator(self, provider: str) -> bool:
        if provider in self._named:
            return self._named[provider].emulated
        creds = self._credentials(provider)
        return creds is not None and creds[0] == EMULATOR_KEY

    def warm(self) -> tuple[str, ...]:
        """Build every configured provider's client now, at the worker's start: the first
        request would otherwise pay for importing the SDK and building its client (about a
        third of a second for Anthropic's). Returns the providers built; a provider whose
        client fails to build is logged and left to fail its requests as before."""
        built = []
        for name in self.configured():
            try:
                self.get(name)
            except Exception:  # its requests will raise the same, with their own error path
                log.exception("provider %s: client not built at start", name)
            else:
                built.append(name)
        return tuple(built)

    def get(self, provider: str) -> ProviderAdapter:
        adapter = self._adapters.get(provider)
        if adapter is None:
            adapter = self._adapters[provider] = self._build(provider)
        return adapter

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()
        self._adapters.clear()

    def _credentials(self, provider: str) -> tuple[str, str | None] | None:
        s = self._settings
        if provider == "anthropic":
            key, base = s.anthropic_api_key, s.anthropic_base_url
        elif provider == "openai":
            key, base = s.openai_api_key, s.openai_base_url
        elif provider == "gemini":
            key, base = s.gemini_api_key, s.gemini_base_url
        else:
            return None
        if key is not None:
            return key.get_secret_value(), base
        if s.emulator_url:
            root = s.emulator_url.rstrip("/")
            # Anthropic's SDK and Gemini's paths (/v1beta/...) start at the root.
            return EMULATOR_KEY, f"{root}/v1" if provider == "openai" else root
        return None

    def _build(self, provider: str) -> ProviderAdapter:
        if provider in self._named:
            return self._build_named(self._named[provider])
        creds = self._credentials(provider)
        if creds is None:
            raise ProviderNotConfigured(provider)
        api_key, base_url = creds
        timeout = self._settings.provider_timeout_s
        if provider == "anthropic":
            from frugalflow.providers.anthropic_adapter import AnthropicAdapter

            return AnthropicAdapter(
                api_key=api_key,
                base_url=base_url,
                timeout_s=timeout,
                batch_cache_ttl_1h=self._settings.anthropic_batch_cache_ttl_1h,
            )
        if provider == "gemini":
            from frugalflow.providers.gemini_adapter import GeminiAdapter

            return GeminiAdapter(api_key=api_key, base_url=base_url, timeout_s=timeout)
        from frugalflow.providers.openai_adapter import OpenAIAdapter

        return OpenAIAdapter(api_key=api_key, base_url=base_url, timeout_s=timeout)

    def _build_named(self, endpoint: Endpoint) -> ProviderAdapter:
        entry, timeout = endpoint.entry, self._settings.provider_timeout_s
        key = endpoint.api_key.get_secret_value()
        if entry.name == "ollama":
            from frugalflow.providers.ollama_adapter import OllamaAdapter

            return OllamaAdapter(
                endpoint.base_url, key, timeout, max_tokens_param=entry.max_tokens_param,
                reports_cost=entry.reports_cost, vendor_models=entry.vendor_models,
            )  # fmt: skip
        from frugalflow.providers.compatible_adapter import OpenAICompatibleAdapter

        return OpenAICompatibleAdapter(
            entry.name, endpoint.base_url, key, timeout, max_tokens_param=entry.max_tokens_param,
            reports_cost=entry.reports_cost, vendor_models=entry.vendor_models,
        )  # fmt: skip
