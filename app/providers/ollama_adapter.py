"""Ollama, or any OpenAI-compatible local endpoint (vLLM, llama.cpp, LM Studio): immediate only.

Reuses ``OpenAIAdapter`` (official ``openai`` SDK, message mapping, usage normalization and
retries) against ``base_url`` such as ``http://localhost:11434/v1``. Differences:

* models are addressed as ``ollama/<name>``; the prefix is stripped before calling the
  endpoint and kept in ``ChatResult.model`` so costing finds the ``ollama/`` pricing rule
  (the catalog owns pricing: local models are zero-cost unless configured otherwise);
* the output cap is sent as ``max_tokens``: local servers do not all honour
  ``max_completion_tokens``; no ``prompt_cache_key`` is sent;
* there is no batch API and no prompt-cache pricing: ``capabilities`` say so,
  ``submit_batch``/``poll_batch``/``batch_results`` raise ``ProviderError(BAD_REQUEST)``
  and ``find_batch`` returns None.
"""

from __future__ import annotations

import openai

from app.providers.base import (
    BatchPoll,
    CachingStrategy,
    Capabilities,
    ChatRequest,
    ChatResult,
    ProviderError,
)
from app.providers.errors import ErrorCode, RetryPolicy, call_with_retries, failure_result
from app.providers.openai_adapter import (
    OpenAIAdapter,
    chat_completion_text,
    chat_success,
    chat_usage,
)

MODEL_PREFIX = "ollama/"
DEFAULT_API_KEY = "ollama"  # Ollama ignores the key; the SDK requires one


def local_model_name(model: str) -> str:
    """``ollama/llama3.2`` -> ``llama3.2`` (other names pass through unchanged)."""
    return model.removeprefix(MODEL_PREFIX)


class OllamaAdapter(OpenAIAdapter):
    name = "ollama"
    capabilities = Capabilities(batching=False, caching=CachingStrategy.NONE)

    def __init__(
        self,
        base_url: str,
        api_key: str = DEFAULT_API_KEY,
        timeout_s: float = 120.0,
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout_s=timeout_s,
            retry_policy=retry_policy,
            use_prompt_cache_key=False,
        )

    async def complete(self, request: ChatRequest) -> ChatResult:
        try:
            messages = self._messages(request)
            completion = await call_with_retries(
                lambda: self._client.chat.completions.create(
                    model=local_model_name(request.model),
                    messages=messages,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature
                    if request.temperature is not None
                    else openai.omit,
                ),
                self._retry,
            )
        except ProviderError as exc:
            return failure_result(request.custom_id, request.model, exc.code, exc.message)
        # Report the addressed model (with its prefix): pricing rules key on it.
        content = chat_completion_text(completion)
        return chat_success(request.custom_id, request.model, content, chat_usage(completion.usage))

    def _no_batch(self) -> ProviderError:
        return ProviderError(ErrorCode.BAD_REQUEST, f"provider {self.name!r} has no batch API")

    async def submit_batch(self, requests: list[ChatRequest], metadata: dict[str, str]) -> str:
        raise self._no_batch()

    async def poll_batch(self, batch_id: str) -> BatchPoll:
        raise self._no_batch()

    async def batch_results(self, batch_id: str) -> list[ChatResult]:
        raise self._no_batch()

    async def find_batch(self, marker: str, created_after: float) -> str | None:
        return None
