"""Ollama, or any OpenAI-compatible local endpoint (vLLM, llama.cpp, LM Studio): immediate only.

The shipped ``ollama`` entry of the named OpenAI-compatible providers
(app/providers/compatible_adapter.py) against ``base_url`` such as
``http://localhost:11434/v1`` (``FRUGALFLOW_OLLAMA_BASE_URL``):

* models are addressed as ``ollama/<name>``; the prefix is stripped before calling the
  endpoint and kept in ``ChatResult.model`` so costing finds the ``ollama`` pricing rule
  (local models are zero-cost unless configured otherwise);
* the output cap is sent as ``max_tokens``: local servers do not all honour
  ``max_completion_tokens``; no ``prompt_cache_key`` is sent;
* there is no batch API and no prompt-cache pricing.
"""

from __future__ import annotations

from typing import Literal

from frugalflow.providers.compatible_adapter import OpenAICompatibleAdapter
from frugalflow.providers.errors import RetryPolicy

MODEL_PREFIX = "ollama/"
DEFAULT_API_KEY = "ollama"  # Ollama ignores the key; the SDK requires one


def local_model_name(model: str) -> str:
    """``ollama/llama3.2`` -> ``llama3.2`` (other names pass through unchanged)."""
    return model.removeprefix(MODEL_PREFIX)


class OllamaAdapter(OpenAICompatibleAdapter):
    def __init__(
        self,
        base_url: str,
        api_key: str = DEFAULT_API_KEY,
        timeout_s: float = 120.0,
        *,
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        reports_cost: bool = False,
        vendor_models: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            "ollama", base_url, api_key, timeout_s, max_tokens_param=max_tokens_param,
            reports_cost=reports_cost, vendor_models=vendor_models,
            retry_policy=retry_policy,
        )  # fmt: skip
