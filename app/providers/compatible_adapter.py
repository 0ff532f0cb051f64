"""A named OpenAI-compatible provider (OpenRouter, Cerebras, vLLM, a gateway): immediate only.

Reuses ``OpenAIAdapter`` (official ``openai`` SDK, message mapping, usage normalization
and retries) against the entry's base URL. Differences:

* models are addressed ``<name>/<model>``; the prefix is stripped on the wire (a
  ``vendor_models`` gateway also gets its own spelling of a vendor id, see
  app/providers/vendor_ids.py) and kept in ``ChatResult.model``, which pricing keys on;
* the output cap is sent as the entry's ``max_tokens_param``; no ``prompt_cache_key``;
* ``reports_cost``: the call asks for usage accounting (``usage: {"include": true}``, which
  OpenRouter now does unasked) and the cost the answer reports is put on the result
  (app/providers/reported_cost.py), which the answer and its cost event carry;
* there is no batch API and no prompt-cache pricing: ``capabilities`` say so,
  ``submit_batch``/``poll_batch``/``batch_results`` raise ``ProviderError(BAD_REQUEST)``
  and ``find_batch`` returns None.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import openai

from frugalflow.providers.base import (
    BatchPoll,
    CachingStrategy,
    Capabilities,
    ChatRequest,
    ChatResult,
    ProviderError,
)
from frugalflow.providers.errors import ErrorCode, RetryPolicy, call_with_retries, failure_result
from frugalflow.providers.openai_adapter import (
    OpenAIAdapter,
    chat_completion_text,
    chat_success,
    chat_usage,
)
from frugalflow.providers.reported_cost import reported_cost
from frugalflow.providers.vendor_ids import wire_id

USAGE_ACCOUNTING = {"usage": {"include": True}}


class OpenAICompatibleAdapter(OpenAIAdapter):
    capabilities = Capabilities(batching=False, caching=CachingStrategy.NONE)

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        timeout_s: float = 120.0,
        *,
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        reports_cost: bool = False,
        vendor_models: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout_s=timeout_s,
            retry_policy=retry_policy,
            use_prompt_cache_key=False,
        )
        self.name = name
        self._prefix = f"{name}/"
        self._max_tokens_param = max_tokens_param
        self._reports_cost = reports_cost
        self._vendor_models = vendor_models

    def wire_model(self, model: str) -> str:
        """``openrouter/anthropic/claude-sonnet-4-6`` -> ``anthropic/claude-sonnet-4.6``."""
        bare = model.removeprefix(self._prefix)
        return wire_id(bare) if self._vendor_models else bare

    async def complete(self, request: ChatRequest) -> ChatResult:
        cap = request.max_tokens
        by_name = self._max_tokens_param == "max_tokens"
        try:
            messages = self._messages(request)
            completion = await call_with_retries(
                lambda: self._client.chat.completions.create(
                    model=self.wire_model(request.model),
                    messages=messages,
                    max_tokens=cap if by_name else openai.omit,
                    max_completion_tokens=openai.omit if by_name else cap,
                    temperature=request.temperature
                    if request.temperature is not None
                    else openai.omit,
                    extra_body=USAGE_ACCOUNTING if self._reports_cost else None,
                ),
                self._retry,
            )
        except ProviderError as exc:
            return failure_result(request.custom_id, request.model, exc.code, exc.message)
        # Report the addressed model (with its prefix): pricing keys on it.
        usage = chat_usage(completion.usage)
        result = chat_success(
            request.custom_id, request.model, chat_completion_text(completion), usage
        )
        cost = reported_cost(completion.usage) if self._reports_cost else None
        return result if cost is None else replace(result, provider_cost_usd=cost)

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
